// End-to-end test of the OTLP receiver with the official OpenTelemetry JavaScript SDK as the
// client: traces, logs and metrics shaped like Claude Code's and Codex's (and GenAI spans of an
// agent framework) go through the SDK's OTLP/HTTP exporters (JSON, the logs gzip-compressed) to
// `vibekit serve --port 0`; then GET /api/sessions/{id} must show the sessions and events with
// the right agent, prompt, model, tokens and cost, and the partial-success answer must count the
// records that carry no session.
//
// A last request sends protobuf (the -otlp-proto exporters' serializer) and reads the protobuf
// answer.
//
// Usage: node sdk_client.mjs <vibekit binary> <scratch dir>
// Exit 0 when every check passes; otherwise the first failed check and the server's stderr.

import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// The SDK comes from the repository's node_modules (npm ci), wherever the test runs from.
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const require = createRequire(join(repoRoot, 'package.json'));
const { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, InMemorySpanExporter,
} = require('@opentelemetry/sdk-trace-base');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const {
  OTLPMetricExporter, AggregationTemporalityPreference,
} = require('@opentelemetry/exporter-metrics-otlp-http');

const [bin, scratch] = process.argv.slice(2);
if (!bin || !scratch) {
  console.error('usage: node sdk_client.mjs <vibekit binary> <scratch dir>');
  process.exit(2);
}

let server = null;
let serverStderr = '';
// The receiver takes the bearer token like every route; agents send it through
// OTEL_EXPORTER_OTLP_HEADERS, the SDK's exporters through `headers`.
const TOKEN = `otlp-e2e-${process.pid}`;
const auth = { Authorization: `Bearer ${TOKEN}` };

function fail(message) {
  console.error(`FAIL: ${message}`);
  if (serverStderr) console.error(`server stderr:\n${serverStderr}`);
  if (server) server.kill('SIGKILL');
  process.exit(1);
}

function check(cond, message) {
  if (!cond) fail(message);
}

function startServer(db) {
  const child = spawn(bin, ['serve', '--db', db, '--port', '0', '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (d) => { serverStderr += d; });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error('vibekit serve printed no start-up line within 20 s'));
    }, 20000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`vibekit serve exited (${code ?? signal}) before listening`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^VibeKit server: (http:\/\/\S+?)\/?$/);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, base: m[1] });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// What the agents send.

const T0 = Date.now() - 60_000;  // the sessions happened in the last minute
const ms = (offset) => T0 + offset;
const CLAUDE_SESSION = `claude-e2e-${process.pid}`;
const CODEX_SESSION = `codex-e2e-${process.pid}`;
const AGENT_SESSION = `genai-e2e-${process.pid}`;

// Claude Code: events as log records (body "claude_code.<name>", attribute event.name, numbers
// written as strings, session.id on every record), service.name claude-code.
async function sendClaudeLogs(base) {
  const exporter = new OTLPLogExporter({ url: `${base}/v1/logs`, compression: 'gzip', headers: auth });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-code', 'service.version': '2.0.14' }),
    processors: [new BatchLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.0.14');
  const common = {
    'session.id': CLAUDE_SESSION, 'user.account_uuid': 'acc-1', 'terminal.type': 'vscode',
  };
  const emit = (offset, name, attrs) => logger.emit({
    timestamp: ms(offset), severityNumber: 9, severityText: 'INFO',
    body: `claude_code.${name}`, attributes: { ...common, 'event.name': name, ...attrs },
  });
  emit(0, 'user_prompt', { prompt_length: '26', prompt: 'Add retries to the uploader' });
  emit(2100, 'api_request', {
    model: 'claude-sonnet-4-5-20250929', cost_usd: '0.0421', duration_ms: '2087',
    input_tokens: '1520', output_tokens: '412', cache_read_tokens: '18000',
    cache_creation_tokens: '950',
  });
  emit(3400, 'tool_result', { tool_name: 'Bash', success: 'true', duration_ms: '1180' });
  emit(5000, 'api_error', {
    model: 'claude-sonnet-4-5-20250929', error: 'Overloaded', status_code: '529',
    duration_ms: '310', attempt: '1',
  });
  emit(9000, 'api_request', {
    model: 'claude-haiku-4-5-20251001', cost_usd: '0.0012', duration_ms: '640',
    input_tokens: '300', output_tokens: '80',
  });
  // A record without a session: the receiver must reject it and say so.
  logger.emit({ timestamp: ms(9500), body: 'claude_code.api_request',
                attributes: { 'event.name': 'api_request', model: 'x' } });
  await provider.forceFlush();
  await provider.shutdown();
}

// Claude Code's metrics: delta counters with session.id.
async function sendClaudeMetrics(base) {
  const exporter = new OTLPMetricExporter({
    url: `${base}/v1/metrics`,
    headers: auth,
    temporalityPreference: AggregationTemporalityPreference.DELTA,
  });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-code' }),
    readers: [reader],
  });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.0.14');
  const tokens = meter.createCounter('claude_code.token.usage', { unit: 'tokens' });
  const cost = meter.createCounter('claude_code.cost.usage', { unit: 'USD' });
  const model = 'claude-sonnet-4-5-20250929';
  tokens.add(1820, { 'session.id': CLAUDE_SESSION, type: 'input', model });
  tokens.add(492, { 'session.id': CLAUDE_SESSION, type: 'output', model });
  cost.add(0.0433, { 'session.id': CLAUDE_SESSION, model });
  await provider.forceFlush();
  await provider.shutdown();
}

// Codex: log records named codex.*, conversation.id, numbers as ints, service.name codex_cli_rs.
async function sendCodexLogs(base) {
  const exporter = new OTLPLogExporter({ url: `${base}/v1/logs`, headers: auth });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'codex_cli_rs', 'service.version': '0.46.0' }),
    processors: [new BatchLogRecordProcessor(exporter)],
  });
  const logger = provider.getLogger('codex_otel');
  const common = { 'conversation.id': CODEX_SESSION, model: 'gpt-5-codex', 'app.version': '0.46.0' };
  const emit = (offset, name, attrs) => logger.emit({
    timestamp: ms(offset), severityNumber: 9, body: name,
    attributes: { ...common, 'event.name': name, ...attrs },
  });
  emit(0, 'codex.conversation_starts', { approval_policy: 'on-request' });
  emit(50, 'codex.user_prompt', { prompt_length: 31, prompt: 'Fix the flaky test in parser.rs' });
  emit(1000, 'codex.sse_event', { 'event.kind': 'response.output_text.delta', duration_ms: 3 });
  emit(4000, 'codex.sse_event', {
    'event.kind': 'response.completed', duration_ms: 3100, input_token_count: 5210,
    output_token_count: 780, cached_token_count: 4096,
  });
  emit(6200, 'codex.tool_result', { tool_name: 'shell', duration_ms: 2050, success: 'true' });
  await provider.forceFlush();
  await provider.shutdown();
}

// An agent instrumented with the GenAI semantic conventions: invoke_agent root span with chat
// and execute_tool children, ending with an error status.
async function sendGenAiSpans(base) {
  const exporter = new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: auth });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'opencode' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('agent-instrumentation', '1.0.0');
  const root = tracer.startSpan('invoke_agent opencode', {
    kind: SpanKind.INTERNAL, startTime: ms(0),
    attributes: {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'opencode',
      'gen_ai.conversation.id': AGENT_SESSION, 'gen_ai.prompt': 'Rename the config loader',
    },
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const chat = tracer.startSpan('chat claude-sonnet-4-5', {
    kind: SpanKind.CLIENT, startTime: ms(100),
    attributes: {
      'gen_ai.operation.name': 'chat', 'gen_ai.conversation.id': AGENT_SESSION,
      'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.input_tokens': 2400,
      'gen_ai.usage.output_tokens': 310,
    },
  }, ctx);
  chat.end(ms(2100));
  const tool = tracer.startSpan('execute_tool bash', {
    startTime: ms(2200),
    attributes: {
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.conversation.id': AGENT_SESSION,
      'gen_ai.tool.name': 'bash',
    },
  }, ctx);
  tool.recordException({ name: 'ExitCode1', message: 'command exited with 1' }, ms(2500));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'command exited with 1' });
  tool.end(ms(2600));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'gave up after the tool failed' });
  root.end(ms(3000));
  // A span of the host application without a session: rejected.
  tracer.startSpan('GET /health', { startTime: ms(10) }).end(ms(12));
  await provider.forceFlush();
  await provider.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Checks.

async function getJson(base, path) {
  const res = await fetch(`${base}${path}`, { headers: auth });
  const text = await res.text();
  check(res.ok, `GET ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

const meta = (e) => (typeof e.metadata === 'string' ? JSON.parse(e.metadata) : e.metadata ?? {});

async function rawPost(base, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body,
  });
  return { status: res.status, body: await res.text() };
}

async function main() {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const started = await startServer(join(scratch, 'telemetry.db'));
  server = started.child;
  const { base } = started;

  // The SDK's own view of the answers (partial success is logged by the SDK, not returned),
  // so the rejected counts are checked with one raw request per signal below.
  await sendClaudeLogs(base);
  await sendClaudeMetrics(base);
  await sendCodexLogs(base);
  await sendGenAiSpans(base);

  // Claude Code: agent, prompt, models, tokens, cost, the API error.
  const claude = await getJson(base, `/api/sessions/${encodeURIComponent(CLAUDE_SESSION)}`);
  check(claude.session.agentType === 'claude', `claude agent: ${claude.session.agentType}`);
  const cEvents = claude.events;
  const start = cEvents.find((e) => e.eventType === 'start');
  check(start && start.prompt === 'Add retries to the uploader', `claude start/prompt: ${JSON.stringify(start)}`);
  const calls = cEvents.filter((e) => meta(e)['otlp.name'] === 'claude_code.api_request');
  check(calls.length === 2, `claude api_request events: ${calls.length}`);
  const sonnet = calls.find((e) => meta(e)['gen_ai.request.model'] === 'claude-sonnet-4-5-20250929');
  check(sonnet, 'the sonnet call keeps gen_ai.request.model');
  check(meta(sonnet)['gen_ai.usage.input_tokens'] === 1520, `input tokens: ${meta(sonnet)['gen_ai.usage.input_tokens']}`);
  check(meta(sonnet)['gen_ai.usage.output_tokens'] === 412, 'output tokens');
  check(Math.abs(meta(sonnet)['vibekit.cost_usd'] - 0.0421) < 1e-9, 'cost_usd');
  const errors = cEvents.filter((e) => e.eventType === 'error');
  check(errors.length === 1, `claude error events: ${errors.length}`);
  check(claude.errors.length === 1 && /Overloaded/.test(JSON.stringify(claude.errors[0])),
        `claude errors rows: ${JSON.stringify(claude.errors)}`);
  const metricEvents = cEvents.filter((e) => meta(e)['otlp.signal'] === 'metrics');
  check(metricEvents.length === 3, `claude metric data points: ${metricEvents.length}`);
  const inputPoint = metricEvents.find((e) => meta(e).type === 'input');
  check(inputPoint && meta(inputPoint)['metric.value'] === 1820 &&
        meta(inputPoint)['metric.temporality'] === 'delta', 'token.usage input data point');
  check(!metricEvents.some((e) => 'gen_ai.usage.input_tokens' in meta(e)),
        'metric data points must not carry gen_ai.usage.* (tokens would count twice)');
  check(cEvents.filter((e) => e.eventType === 'start').length === 1, 'one start for claude');
  check(claude.session.status === 'failed', `claude status after an API error: ${claude.session.status}`);

  // Codex.
  const codex = await getJson(base, `/api/sessions/${encodeURIComponent(CODEX_SESSION)}`);
  check(codex.session.agentType === 'codex', `codex agent: ${codex.session.agentType}`);
  check(codex.events[0].eventType === 'start', 'codex starts with conversation_starts');
  check(codex.events.some((e) => e.streamData === 'Fix the flaky test in parser.rs'), 'codex prompt');
  const completed = codex.events.find((e) => meta(e)['event.kind'] === 'response.completed');
  check(completed && meta(completed)['gen_ai.usage.input_tokens'] === 5210 &&
        meta(completed)['gen_ai.usage.output_tokens'] === 780 &&
        meta(completed)['gen_ai.request.model'] === 'gpt-5-codex', 'codex tokens and model');
  check(!codex.events.some((e) => meta(e)['event.kind'] === 'response.output_text.delta'),
        'codex token-less SSE deltas are not stored');
  check(codex.session.status === 'active', `codex session open: ${codex.session.status}`);

  // GenAI spans: start with prompt, model call, tool error, end failed by the root span.
  const agent = await getJson(base, `/api/sessions/${encodeURIComponent(AGENT_SESSION)}`);
  check(agent.session.agentType === 'opencode', `genai agent: ${agent.session.agentType}`);
  check(agent.events[0].eventType === 'start' && agent.events[0].prompt === 'Rename the config loader',
        `genai start: ${JSON.stringify(agent.events[0])}`);
  const chat = agent.events.find((e) => meta(e)['otlp.name'] === 'chat claude-sonnet-4-5');
  check(chat && meta(chat)['gen_ai.usage.input_tokens'] === 2400, 'genai chat tokens');
  check(agent.events.some((e) => e.eventType === 'error'), 'genai tool exception is an error');
  check(agent.events[agent.events.length - 1].eventType === 'end', 'genai ends with the root span');
  check(agent.session.status === 'failed', `genai status: ${agent.session.status}`);
  check(agent.session.duration === 3000, `genai duration: ${agent.session.duration}`);

  // The OTLP/HTTP answers themselves: partial success, 400 on garbage.
  const partial = await rawPost(base, '/v1/logs', JSON.stringify({
    resourceLogs: [{ scopeLogs: [{ logRecords: [
      { timeUnixNano: String(ms(1) * 1e6), body: { stringValue: 'orphan' } },
      { timeUnixNano: String(ms(2) * 1e6), body: { stringValue: 'kept' },
        attributes: [{ key: 'session.id', value: { stringValue: `raw-${process.pid}` } }] },
    ] }] }],
  }));
  check(partial.status === 200, `partial success status ${partial.status}: ${partial.body}`);
  const ps = JSON.parse(partial.body).partialSuccess;
  check(ps && ps.rejectedLogRecords === '1' && /no session\.id/.test(ps.errorMessage),
        `partialSuccess: ${partial.body}`);
  const all = await rawPost(base, '/v1/traces', '{}');
  check(all.status === 200 && JSON.parse(all.body).partialSuccess === undefined, `empty request: ${all.body}`);
  const bad = await rawPost(base, '/v1/metrics', '{"resourceMetrics": [');
  check(bad.status === 400 && JSON.parse(bad.body).error, `garbage body: ${bad.status} ${bad.body}`);
  const noToken = await rawPost(base, '/v1/logs', '{}', { Authorization: '' });
  check(noToken.status === 401, `no token: ${noToken.status} ${noToken.body}`);
  const wrongToken = await rawPost(base, '/v1/traces', '{}', { Authorization: 'Bearer nope' });
  check(wrongToken.status === 401 || wrongToken.status === 403, `wrong token: ${wrongToken.status}`);
  const other = await rawPost(base, '/v1/traces', 'x', { 'content-type': 'text/plain' });
  check(other.status === 415, `text/plain body: ${other.status} ${other.body}`);

  // Protobuf, as @opentelemetry/exporter-trace-otlp-proto sends it (the same serializer).
  const mem = new InMemorySpanExporter();
  const protoProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'gemini-cli' }),
    spanProcessors: [new SimpleSpanProcessor(mem)],
  });
  const protoTracer = protoProvider.getTracer('proto');
  const PROTO_SESSION = `proto-e2e-${process.pid}`;
  const protoRoot = protoTracer.startSpan('invoke_agent', {
    startTime: ms(0),
    attributes: { 'session.id': PROTO_SESSION, 'gen_ai.operation.name': 'invoke_agent',
                  'gen_ai.prompt': 'Summarise the diff' },
  });
  protoTracer.startSpan('chat gemini-2.5-pro', {
    startTime: ms(10),
    attributes: { 'session.id': PROTO_SESSION, 'gen_ai.request.model': 'gemini-2.5-pro',
                  'gen_ai.usage.input_tokens': 800, 'gen_ai.usage.output_tokens': 90 },
  }, trace.setSpan(ROOT_CONTEXT, protoRoot)).end(ms(500));
  protoRoot.end(ms(600));
  protoTracer.startSpan('no session', { startTime: ms(1) }).end(ms(2));
  await protoProvider.forceFlush();
  const protoRes = await fetch(`${base}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...auth },
    body: ProtobufTraceSerializer.serializeRequest(mem.getFinishedSpans()),
  });
  const protoBody = new Uint8Array(await protoRes.arrayBuffer());
  check(protoRes.status === 200 && protoRes.headers.get('content-type') === 'application/x-protobuf',
        `protobuf answer ${protoRes.status} ${protoRes.headers.get('content-type')}`);
  const decoded = ProtobufTraceSerializer.deserializeResponse(protoBody);
  check(Number(decoded.partialSuccess?.rejectedSpans) === 1,
        `protobuf partial success: ${JSON.stringify(decoded)}`);
  const viaProto = await getJson(base, `/api/sessions/${encodeURIComponent(PROTO_SESSION)}`);
  check(viaProto.session.agentType === 'gemini' && viaProto.session.status === 'completed',
        `protobuf session: ${JSON.stringify(viaProto.session)}`);
  check(viaProto.events[0].prompt === 'Summarise the diff', 'protobuf prompt');
  check(viaProto.events.some((e) => meta(e)['gen_ai.usage.output_tokens'] === 90), 'protobuf tokens');

  // A clean shutdown (exit 0; under ASan a report at exit makes it non-zero).
  const exited = new Promise((r) => server.once('exit', (code, signal) => r({ code, signal })));
  server.kill('SIGTERM');
  const { code, signal } = await exited;
  const stopped = server;
  server = null;
  check(code === 0, `vibekit serve exited with ${code ?? signal} after SIGTERM (${stopped.pid})`);
  console.log('ok: sessions from the OpenTelemetry JS SDK (traces, logs, metrics) recorded');
}

main().catch((err) => fail(err.stack || String(err)));
