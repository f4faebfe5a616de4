#!/usr/bin/env node
// Checks OTLP/JSON trace requests against the OTLP protobuf schema as the official
// OpenTelemetry JavaScript packages carry it (@opentelemetry/otlp-transformer's generated
// protobuf classes).
//
//   node validate_otlp.mjs [--protobuf] FILE...    (gzip-compressed files are accepted)
//
// A request passes when it survives the schema unchanged: ids are converted from the JSON
// mapping's hex to bytes, the object goes through ExportTraceServiceRequest.fromObject, is
// encoded to protobuf and decoded back, and toObject (64-bit integers as strings, enums as
// numbers, defaults left out) must give back exactly the input. An unknown field is dropped on
// the way, a mistyped one coerced, an enum given by name turned into its number: each shows up
// as a difference, reported with its JSON path. With --protobuf the files hold binary
// protobuf, which must decode and re-encode to the same bytes.
// Exit status: 0 all valid, 1 some invalid (one line per problem on stderr), 2 usage.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const ID_FIELDS = { traceId: 32, spanId: 16, parentSpanId: 16 };

function fail(problems, path, message) {
  problems.push(`${path || '$'}: ${message}`);
}

// Hex ids of the JSON mapping to the base64 protobufjs reads for bytes fields.
function idsToBase64(value, path, problems) {
  if (Array.isArray(value)) return value.map((v, i) => idsToBase64(v, `${path}[${i}]`, problems));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const here = `${path}.${key}`;
    if (key in ID_FIELDS && typeof v === 'string') {
      const want = ID_FIELDS[key];
      if (!new RegExp(`^[0-9a-fA-F]{${want}}$`).test(v)) {
        fail(problems, here, `must be ${want} hex digits, got ${JSON.stringify(v)}`);
      } else if (/^0+$/.test(v)) {
        fail(problems, here, 'must not be all zeros');
      }
      out[key] = Buffer.from(v, 'hex').toString('base64');
    } else {
      out[key] = idsToBase64(v, here, problems);
    }
  }
  return out;
}

function diff(expected, actual, path, problems) {
  if (problems.length > 20) return;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) {
      fail(problems, path, `type changed: ${JSON.stringify(expected)} -> ${JSON.stringify(actual)}`);
      return;
    }
    if (expected.length !== actual.length) {
      fail(problems, path, `array length ${expected.length} -> ${actual.length}`);
    }
    const n = Math.min(expected.length, actual.length);
    for (let i = 0; i < n; ++i) diff(expected[i], actual[i], `${path}[${i}]`, problems);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') {
      fail(problems, path, `not kept by the schema (${JSON.stringify(expected)})`);
      return;
    }
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) {
        fail(problems, `${path}.${key}`, 'unknown field, or a default value that must be left out');
      } else {
        diff(expected[key], actual[key], `${path}.${key}`, problems);
      }
    }
    for (const key of Object.keys(actual)) {
      if (!(key in expected)) fail(problems, `${path}.${key}`, 'appeared from nowhere');
    }
    return;
  }
  if (expected !== actual) {
    fail(problems, path, `mistyped: ${JSON.stringify(expected)} reads back as ${JSON.stringify(actual)}`);
  }
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false };

function validateJson(text) {
  const problems = [];
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return [`not JSON: ${e.message}`];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return ['top level must be an ExportTraceServiceRequest object'];
  }
  const input = idsToBase64(parsed, '$', problems);
  const verifyError = Request.verify(Request.fromObject(input));
  if (verifyError) fail(problems, '$', verifyError);
  let message;
  try {
    message = Request.fromObject(input);
  } catch (e) {
    fail(problems, '$', `rejected by the schema: ${e.message}`);
    return problems;
  }
  const wire = Request.encode(message).finish();
  const back = Request.toObject(Request.decode(wire), TO_OBJECT);
  diff(input, back, '$', problems);
  if (!Array.isArray(parsed.resourceSpans) || parsed.resourceSpans.length === 0) {
    fail(problems, '$.resourceSpans', 'no spans');
  }
  return problems;
}

function validateProtobuf(bytes) {
  try {
    const message = Request.decode(bytes);
    const again = Buffer.from(Request.encode(message).finish());
    if (!again.equals(Buffer.from(bytes))) return ['protobuf does not re-encode to the same bytes'];
    const verifyError = Request.verify(message);
    return verifyError ? [verifyError] : [];
  } catch (e) {
    return [`not a protobuf ExportTraceServiceRequest: ${e.message}`];
  }
}

const args = process.argv.slice(2);
const protobuf = args[0] === '--protobuf';
const files = protobuf ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: validate_otlp.mjs [--protobuf] FILE...');
  process.exit(2);
}
let bad = 0;
for (const file of files) {
  let bytes = readFileSync(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const problems = protobuf ? validateProtobuf(bytes) : validateJson(bytes.toString('utf8'));
  for (const p of problems) console.error(`${file}: ${p}`);
  if (problems.length > 0) ++bad;
}
process.exit(bad === 0 ? 0 : 1);
