// Health: the overall grade, issues, and every figure of GET /api/health, refreshed by the
// "health" channel (every 5 s).
import { getJson } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { fmtBytes, fmtDuration, fmtInt } from '../format.js';

function fmtValue(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    if (/Bytes$/i.test(key)) return fmtBytes(v);
    if (/Ms$/.test(key)) return fmtDuration(v);
    return Number.isInteger(v) ? fmtInt(v) : v.toFixed(2);
  }
  return String(v);
}

// Nested objects become sections; arrays of scalars a comma list; arrays of objects JSON lines.
function section(title, obj, depth = 0) {
  const rows = [];
  const subs = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'issues' || k === 'status') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) subs.push([k, v]);
    else if (Array.isArray(v)) {
      rows.push(h('dt', null, k), h('dd', { class: 'mono' },
        v.length ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : '—'));
    } else rows.push(h('dt', null, k), h('dd', { dataset: { key: k } }, fmtValue(k, v)));
  }
  return [
    h('section', { class: 'panel', dataset: { section: title } }, h('h2', null, title),
      h('dl', { class: 'meta-grid' }, rows)),
    ...subs.flatMap(([k, v]) => section(depth ? `${title} · ${k}` : k, v, depth + 1)),
  ];
}

export function mount(root, { live }) {
  document.title = 'Health · VibeKit';
  const head = h('div', { class: 'page-head' }, h('h1', null, 'Health'));
  const msg = h('div');
  const body = h('div');
  root.append(head, msg, body);
  let alive = true;

  function render(health) {
    const status = health.status ?? 'unknown';
    replace(head, h('h1', null, 'Health'),
      h('span', { class: `badge ${status}`, 'data-testid': 'health-status' }, status),
      health.performanceGrade ? h('span', { class: `badge ${health.performanceGrade}` },
        `performance ${health.performanceGrade}`) : null,
      h('span', { class: 'sub' }, `updated ${new Date().toLocaleTimeString()}`));
    const issues = Array.isArray(health.issues) ? health.issues : [];
    replace(body,
      h('section', { class: 'panel' }, h('h2', null, 'Issues'),
        issues.length
          ? h('ul', null, issues.map((i) => h('li', null, typeof i === 'string' ? i : JSON.stringify(i))))
          : h('div', { class: 'small' }, 'No issues.')),
      h('div', { class: 'grid-2' }, section('Database', health)));
    root.dataset.loaded = 'true';
  }

  async function load() {
    try {
      const r = await getJson('/api/health');
      if (!alive) return;
      replace(msg);
      render(r);
    } catch (err) {
      if (alive) replace(msg, errorBox(`Could not load health: ${err.message}`));
    }
  }
  const offs = [
    live.subscribe(['health']),
    live.on('health', (m) => { if (alive && m.health) render(m.health); }),
    live.onReopen(load),
  ];
  load();
  return () => {
    alive = false;
    for (const off of offs) off();
  };
}
