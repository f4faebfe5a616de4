// Renders an event's text readably. Agents stream plain text, markdown with code fences, and
// JSON (tool calls such as {"tool":"Grep","input":{...}}, tool results, usage records); JSON is
// shown as a titled key/value block instead of one long line. Everything is text nodes.
import { h } from './dom.js';

export function tryParseJson(text) {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) {
    return undefined;
  }
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function scalarText(v) {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v, null, 2);
  return String(v);
}

function kvList(obj) {
  const rows = [];
  for (const [k, v] of Object.entries(obj)) {
    rows.push(h('div', { class: 'kv-row' },
      h('span', { class: 'kv-key' }, k),
      h('span', { class: `kv-val${typeof v === 'object' && v !== null ? ' mono' : ''}` },
        scalarText(v))));
  }
  return h('div', { class: 'kv' }, rows);
}

const TOOL_KEYS = ['tool', 'tool_name', 'toolName', 'name', 'function'];
const INPUT_KEYS = ['input', 'arguments', 'args', 'parameters', 'params'];

// A JSON value as a block: tool calls get "Tool call · Name" and their input as key/values,
// other objects their keys, arrays one item per line.
export function jsonBlock(value) {
  if (Array.isArray(value)) {
    return h('div', { class: 'json-block' },
      h('div', { class: 'json-title' }, `JSON list · ${value.length} item(s)`),
      value.map((item) => h('pre', { class: 'text mono' }, scalarText(item))));
  }
  if (value && typeof value === 'object') {
    const toolKey = TOOL_KEYS.find((k) => typeof value[k] === 'string');
    const inputKey = INPUT_KEYS.find((k) => value[k] !== undefined);
    if (toolKey) {
      const rest = { ...value };
      delete rest[toolKey];
      let input = inputKey ? rest[inputKey] : undefined;
      if (inputKey) delete rest[inputKey];
      if (typeof input === 'string') input = tryParseJson(input) ?? input;
      return h('div', { class: 'json-block tool-call' },
        h('div', { class: 'json-title' }, 'Tool call · ', h('strong', null, value[toolKey])),
        input !== undefined
          ? (input && typeof input === 'object' && !Array.isArray(input)
            ? kvList(input) : h('pre', { class: 'text mono' }, scalarText(input)))
          : null,
        Object.keys(rest).length ? kvList(rest) : null);
    }
    return h('div', { class: 'json-block' }, h('div', { class: 'json-title' }, 'JSON'),
      kvList(value));
  }
  return h('pre', { class: 'text' }, scalarText(value));
}

// Any text: JSON gets a block, the rest a preformatted text block that keeps line breaks.
export function textBlock(text) {
  const json = tryParseJson(text);
  if (json !== undefined) return jsonBlock(json);
  return h('pre', { class: 'text' }, text);
}

// One line of preview text for an event (the live stream and tables).
export function eventSummary(e) {
  if (e.eventType === 'error') {
    return (e.error && e.error.message) || e.streamData || 'error';
  }
  if (e.eventType === 'start') return e.prompt || '(start)';
  if (e.eventType === 'end') {
    const m = e.metadata || {};
    const parts = [];
    if (m.status) parts.push(`status ${m.status}`);
    if (m.duration !== undefined) parts.push(`${m.duration} ms`);
    return parts.length ? `end · ${parts.join(' · ')}` : 'end';
  }
  const json = tryParseJson(e.streamData);
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const toolKey = TOOL_KEYS.find((k) => typeof json[k] === 'string');
    if (toolKey) {
      const input = json.input ?? json.arguments ?? json.args;
      const args = input && typeof input === 'object'
        ? Object.entries(input).map(([k, v]) => `${k}=${scalarText(v)}`).join(' ') : '';
      return `⚙ ${json[toolKey]} ${args}`.trim();
    }
  }
  return e.streamData ?? '';
}
