// Writes the protobuf receiver cases: the same telemetry serialized by the OpenTelemetry JS
// SDK's OTLP serializers (the ones @opentelemetry/exporter-*-otlp-proto and -otlp-http use) as
// protobuf (<name>.pb) and as JSON (<name>.pb.json), so the C++ test can check that our protobuf
// decoder reads exactly what the JSON path reads. Run from the repository root after npm ci:
//   node tests/otlp/receiver_cases/make_protobuf_cases.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(resolve(here, '..', '..', '..'), 'package.json'));
const { trace, ROOT_CONTEXT, SpanStatusCode } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const {
  ProtobufTraceSerializer, JsonTraceSerializer, ProtobufLogsSerializer, JsonLogsSerializer,
  ProtobufMetricsSerializer, JsonMetricsSerializer,
} = require('@opentelemetry/otlp-transformer');

const T0 = 1764079200000;
const write = (name, proto, jsonSer, items) => {
  writeFileSync(join(here, `${name}.pb`), proto.serializeRequest(items));
  writeFileSync(join(here, `${name}.pb.json`), jsonSer.serializeRequest(items));
};

// Traces: a GenAI agent run with a failing tool and an exception event.
{
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'opencode', 'host.arch': 'amd64' }),
    spanProcessors: [new SimpleSpanProcessor(mem)],
  });
  const tracer = provider.getTracer('agent-instrumentation', '1.0.0');
  const sid = 'proto-genai-1';
  const root = tracer.startSpan('invoke_agent opencode', {
    startTime: T0,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.conversation.id': sid,
                  'gen_ai.prompt': 'Rename the config loader', 'vibekit.mode': 'code' },
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  tracer.startSpan('chat claude-sonnet-4-5', {
    startTime: T0 + 100,
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.conversation.id': sid,
                  'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.input_tokens': 2400,
                  'gen_ai.usage.output_tokens': 310, 'gen_ai.request.temperature': 0.25,
                  'gen_ai.response.finish_reasons': ['tool_use', 'stop'], streaming: true },
  }, ctx).end(T0 + 2100);
  const tool = tracer.startSpan('execute_tool bash', {
    startTime: T0 + 2200,
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.conversation.id': sid,
                  'gen_ai.tool.name': 'bash', 'error.type': 'ExitCode1' },
  }, ctx);
  tool.recordException({ name: 'ExitCode1', message: 'command exited with 1', stack: 'at bash' }, T0 + 2500);
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'command exited with 1' });
  tool.end(T0 + 2600);
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(T0 + 3000);
  tracer.startSpan('GET /health', { startTime: T0 + 10 }).end(T0 + 12);
  await provider.forceFlush();
  write('sdk_traces', ProtobufTraceSerializer, JsonTraceSerializer, mem.getFinishedSpans());
}

// Logs: Claude Code's events, plus a structured body (kvlist) and a bytes attribute.
{
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-code', 'service.version': '2.0.14' }),
    processors: [new SimpleLogRecordProcessor(mem)],
  });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.0.14');
  const sid = 'proto-claude-1';
  const emit = (offset, name, attrs, extra = {}) => logger.emit({
    timestamp: T0 + offset, severityNumber: 9, severityText: 'INFO', body: `claude_code.${name}`,
    attributes: { 'session.id': sid, 'event.name': name, ...attrs }, ...extra,
  });
  emit(0, 'user_prompt', { prompt_length: '20', prompt: 'Explain the retry loop' });
  emit(2100, 'api_request', { model: 'claude-sonnet-4-5-20250929', cost_usd: '0.0421',
                              duration_ms: '2087', input_tokens: '1520', output_tokens: '412' });
  emit(5000, 'api_error', { model: 'claude-sonnet-4-5-20250929', error: 'Overloaded',
                            status_code: '529' }, { severityNumber: 17, severityText: 'ERROR' });
  logger.emit({ timestamp: T0 + 6000, body: { step: 'lint', ok: true, files: [1, 2] },
                attributes: { 'session.id': sid, digest: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
                              ratio: 0.5, big: 9007199254740991 } });
  logger.emit({ timestamp: T0 + 7000, body: 'no session here' });
  await provider.forceFlush();
  write('sdk_logs', ProtobufLogsSerializer, JsonLogsSerializer, mem.getFinishedLogRecords());
}

// Metrics: Claude Code's counters (int and double sums), a gauge and a histogram.
{
  const mem = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter: mem, exportIntervalMillis: 3600000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-code' }), readers: [reader],
  });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.0.14');
  const sid = 'proto-claude-1';
  const model = 'claude-sonnet-4-5-20250929';
  meter.createCounter('claude_code.token.usage', { unit: 'tokens', valueType: 0 })
    .add(1820, { 'session.id': sid, type: 'input', model });
  meter.createCounter('claude_code.cost.usage', { unit: 'USD' }).add(0.0433, { 'session.id': sid, model });
  meter.createHistogram('claude_code.tool.duration', { unit: 'ms' })
    .record(1180, { 'session.id': sid, tool_name: 'Bash' });
  meter.createGauge('claude_code.context.fill', { unit: '1' }).record(-0.75, { 'session.id': sid });
  meter.createCounter('claude_code.active_time.total', { unit: 's' }).add(12);  // no session
  await reader.forceFlush();
  write('sdk_metrics', ProtobufMetricsSerializer, JsonMetricsSerializer, mem.getMetrics()[0]);
}
console.log('wrote sdk_traces, sdk_logs, sdk_metrics (.pb and .pb.json)');
