// Agents and modes: sessions, events and errors per agent, per mode, and per agent × mode
// (GET /api/agents), with bars relative to the largest row. Reloaded when sessions change.
import { getJson } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { fmtInt, fmtPct } from '../format.js';

function sum(rows, key) {
  const out = new Map();
  for (const r of rows) {
    const k = key(r);
    const o = out.get(k) ?? { sessions: 0, events: 0, errors: 0 };
    o.sessions += r.sessions;
    o.events += r.events;
    o.errors += r.errors;
    out.set(k, o);
  }
  return [...out.entries()].map(([name, o]) => ({ name, ...o }))
    .sort((a, b) => b.sessions - a.sessions || a.name.localeCompare(b.name));
}

function table(testid, firstCols, rows) {
  const max = Math.max(1, ...rows.map((r) => r.sessions));
  return h('table', { 'data-testid': testid },
    h('thead', null, h('tr', null, firstCols.map((c) => h('th', null, c)),
      h('th', { class: 'num' }, 'Sessions'), h('th', { class: 'bar-cell' }, ''),
      h('th', { class: 'num' }, 'Events'), h('th', { class: 'num' }, 'Errors'),
      h('th', { class: 'num' }, 'Error rate'))),
    h('tbody', null, rows.length ? rows.map((r) => h('tr', { dataset: { key: r.key.join('/') } },
      r.key.map((k) => h('td', null, k || '(none)')),
      h('td', { class: 'num' }, fmtInt(r.sessions)),
      h('td', { class: 'bar-cell' }, h('div', { class: 'bar', style: `width:${(100 * r.sessions / max).toFixed(1)}%` })),
      h('td', { class: 'num' }, fmtInt(r.events)),
      h('td', { class: 'num' }, fmtInt(r.errors)),
      h('td', { class: 'num' }, r.events ? fmtPct(100 * r.errors / r.events, 2) : '—')))
      : h('tr', null, h('td', { colspan: firstCols.length + 5, class: 'empty' }, 'No sessions yet.'))));
}

export function mount(root, { live }) {
  document.title = 'Agents · VibeKit';
  const msg = h('div');
  const byAgent = h('section', { class: 'panel table-wrap' });
  const byMode = h('section', { class: 'panel table-wrap' });
  const both = h('section', { class: 'panel table-wrap' });
  root.append(h('div', { class: 'page-head' }, h('h1', null, 'Agents and modes')), msg,
    h('div', { class: 'grid-2' }, byAgent, byMode), both);
  let alive = true;

  async function load() {
    try {
      const r = await getJson('/api/agents');
      if (!alive) return;
      replace(msg);
      const rows = r.agents;
      replace(byAgent, h('h2', null, 'By agent'),
        table('by-agent', ['Agent'], sum(rows, (x) => x.agentType).map((x) => ({ ...x, key: [x.name] }))));
      replace(byMode, h('h2', null, 'By mode'),
        table('by-mode', ['Mode'], sum(rows, (x) => x.mode ?? '').map((x) => ({ ...x, key: [x.name] }))));
      const pairs = [...rows].sort((a, b) => b.sessions - a.sessions)
        .map((x) => ({ ...x, key: [x.agentType, x.mode ?? ''] }));
      replace(both, h('h2', null, 'Agent × mode'), table('agent-mode', ['Agent', 'Mode'], pairs));
      root.dataset.loaded = 'true';
    } catch (err) {
      if (alive) replace(msg, errorBox(`Could not load the agents: ${err.message}`));
    }
  }

  // Session changes arrive in bursts; reload at most every 2 s.
  let pending = null;
  const offs = [
    live.subscribe(['sessions']),
    live.on('sessions', () => {
      if (!pending) pending = setTimeout(() => { pending = null; load(); }, 2000);
    }),
    live.onReopen(load),
  ];
  load();
  return () => {
    alive = false;
    clearTimeout(pending);
    for (const off of offs) off();
  };
}
