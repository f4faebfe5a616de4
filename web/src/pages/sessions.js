// Sessions: filters (status, agent, mode, time range), search, cursor paging. The filters live
// in the hash (#/sessions?status=failed&agent=codex&q=..&cursor=..) so every view is a deep link;
// changing one rewrites the hash in place (no history entry per keystroke) and reloads the rows.
// Rows update live from the "sessions" channel.
import { getJson } from '../api.js';
import { h, replace, errorBox, sessionHref } from '../dom.js';
import { fmtAgo, fmtDuration, fmtInt, fmtTime, shortId } from '../format.js';

const FILTER_KEYS = ['status', 'agent', 'mode', 'since', 'q'];
const STATUSES = ['active', 'completed', 'failed', 'timeout'];
const RANGES = [['', 'any time'], ['15m', 'last 15 minutes'], ['1h', 'last hour'],
                ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days']];
const PAGE_SIZE = 50;

let current = null;  // the mounted page's state, for onQuery

function select(name, label, options) {
  const el = h('select', { name, 'aria-label': label },
    options.map(([value, text]) => h('option', { value }, text)));
  return { el, wrap: h('label', null, label, el) };
}

export function mount(root, { query, live }) {
  document.title = 'Sessions · VibeKit';
  const state = { filters: {}, cursor: null, prev: [], rows: new Map(), alive: true, seq: 0 };
  current = state;

  const status = select('status', 'Status', [['', 'any'], ...STATUSES.map((s) => [s, s])]);
  const agent = select('agent', 'Agent', [['', 'any']]);
  const mode = select('mode', 'Mode', [['', 'any']]);
  const since = select('since', 'Time range', RANGES);
  const search = h('input', { type: 'search', name: 'q', placeholder: 'session id, repository or sandbox',
                              'aria-label': 'Search' });
  const reset = h('button', { type: 'button' }, 'Clear');
  const summary = h('span', { class: 'sub', 'data-testid': 'total' });
  const newHint = h('button', { type: 'button', class: 'new-hint', hidden: true });
  const msg = h('div');
  const tbody = h('tbody');
  const prevBtn = h('button', { type: 'button' }, '← Newer');
  const nextBtn = h('button', { type: 'button' }, 'Older →');
  const pageInfo = h('span', { class: 'small' });

  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Sessions'), summary, newHint),
    h('form', { class: 'filters panel', onsubmit: (e) => e.preventDefault() },
      status.wrap, agent.wrap, mode.wrap, since.wrap,
      h('label', null, 'Search', search), reset),
    msg,
    h('section', { class: 'panel table-wrap' },
      h('table', { 'data-testid': 'sessions-table' },
        h('thead', null, h('tr', null,
          h('th', null, 'Session'), h('th', null, 'Agent'), h('th', null, 'Mode'),
          h('th', null, 'Status'), h('th', null, 'Started'), h('th', { class: 'num' }, 'Duration'),
          h('th', { class: 'num' }, 'Events'), h('th', { class: 'num' }, 'Errors'),
          h('th', null, 'Repository'))),
        tbody),
      h('div', { class: 'pager' }, pageInfo, prevBtn, nextBtn)));

  function writeHash() {
    const qs = new URLSearchParams();
    for (const k of FILTER_KEYS) if (state.filters[k]) qs.set(k, state.filters[k]);
    if (state.cursor) qs.set('cursor', state.cursor);
    const s = qs.toString();
    history.replaceState(null, '', `#/sessions${s ? `?${s}` : ''}`);
  }

  function ensureOption(sel, value) {
    if (value && ![...sel.options].some((o) => o.value === value)) {
      sel.appendChild(h('option', { value }, value));
    }
  }

  function readQuery(q) {
    state.filters = {};
    for (const k of FILTER_KEYS) {
      const v = q.get(k);
      if (v) state.filters[k] = v;
    }
    state.cursor = q.get('cursor') || null;
    ensureOption(agent.el, state.filters.agent);
    ensureOption(mode.el, state.filters.mode);
    ensureOption(since.el, state.filters.since);
    status.el.value = state.filters.status ?? '';
    agent.el.value = state.filters.agent ?? '';
    mode.el.value = state.filters.mode ?? '';
    since.el.value = state.filters.since ?? '';
    if (document.activeElement !== search) search.value = state.filters.q ?? '';
  }

  function row(s) {
    return h('tr', { dataset: { sessionId: s.id, status: s.status, agent: s.agentType } },
      h('td', null, h('a', { href: sessionHref(s.id), class: 'mono', title: s.id }, shortId(s.id))),
      h('td', null, s.agentType),
      h('td', null, s.mode ?? ''),
      h('td', null, h('span', { class: `badge ${s.status}` }, s.status)),
      h('td', { title: fmtTime(s.startTime) }, fmtAgo(s.startTime)),
      h('td', { class: 'num' }, fmtDuration(s.duration ?? (s.endTime && s.startTime ? s.endTime - s.startTime : null))),
      h('td', { class: 'num' }, fmtInt(s.eventCount)),
      h('td', { class: 'num' }, fmtInt(s.errorCount)),
      h('td', { class: 'truncate', title: s.repoUrl ?? '' }, s.repoUrl ?? ''));
  }

  async function load() {
    const seq = ++state.seq;
    const params = { ...state.filters, limit: PAGE_SIZE, cursor: state.cursor };
    tbody.setAttribute('aria-busy', 'true');
    try {
      const r = await getJson('/api/sessions', params);
      if (!state.alive || seq !== state.seq) return;
      replace(msg);
      state.rows.clear();
      replace(tbody, r.sessions.map((s) => {
        const tr = row(s);
        state.rows.set(s.id, tr);
        return tr;
      }));
      if (!r.sessions.length) {
        tbody.appendChild(h('tr', null, h('td', { colspan: 9, class: 'empty' },
          'No sessions match these filters.')));
      }
      summary.textContent = `${fmtInt(r.total)} session${r.total === 1 ? '' : 's'}`;
      state.next = r.nextCursor ?? null;
      nextBtn.disabled = !state.next;
      prevBtn.disabled = !state.cursor;
      pageInfo.textContent = r.sessions.length
        ? `page ${state.prev.length + 1} · ${r.sessions.length} shown` : '';
      newHint.hidden = true;
      state.fresh = 0;
      tbody.removeAttribute('aria-busy');
      root.dataset.loaded = `${seq}`;
    } catch (err) {
      if (!state.alive || seq !== state.seq) return;
      tbody.removeAttribute('aria-busy');
      replace(msg, errorBox(`Could not load sessions: ${err.message}`));
    }
  }

  function changed() {
    state.cursor = null;
    state.prev = [];
    writeHash();
    load();
  }

  for (const [sel, key] of [[status.el, 'status'], [agent.el, 'agent'], [mode.el, 'mode'],
                            [since.el, 'since']]) {
    sel.addEventListener('change', () => {
      if (sel.value) state.filters[key] = sel.value;
      else delete state.filters[key];
      changed();
    });
  }
  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const v = search.value.trim();
      if (v) state.filters.q = v;
      else delete state.filters.q;
      changed();
    }, 250);
  });
  reset.addEventListener('click', () => {
    state.filters = {};
    readQuery(new URLSearchParams());
    changed();
  });
  nextBtn.addEventListener('click', () => {
    if (!state.next) return;
    state.prev.push(state.cursor);
    state.cursor = state.next;
    writeHash();
    load();
  });
  prevBtn.addEventListener('click', () => {
    state.cursor = state.prev.length ? state.prev.pop() : null;
    writeHash();
    load();
  });
  newHint.addEventListener('click', () => changed());

  // Agent and mode choices come from the agents breakdown.
  getJson('/api/agents').then((r) => {
    if (!state.alive) return;
    const agents = [...new Set(r.agents.map((a) => a.agentType))].sort();
    const modes = [...new Set(r.agents.map((a) => a.mode ?? '').filter(Boolean))].sort();
    for (const a of agents) ensureOption(agent.el, a);
    for (const m of modes) ensureOption(mode.el, m);
    agent.el.value = state.filters.agent ?? '';
    mode.el.value = state.filters.mode ?? '';
  }).catch(() => {});

  function matches(s) {
    const f = state.filters;
    if (f.status && s.status !== f.status) return false;
    if (f.agent && s.agentType !== f.agent) return false;
    if (f.mode && (s.mode ?? '') !== f.mode) return false;
    if (f.q) {
      const q = f.q.toLowerCase();
      if (![s.id, s.repoUrl, s.sandboxId].some((x) => x && x.toLowerCase().includes(q))) return false;
    }
    return true;
  }

  const offs = [
    live.subscribe(['sessions']),
    live.on('sessions', (m) => {
      if (!Array.isArray(m.sessions)) return;
      for (const s of m.sessions) {
        const tr = state.rows.get(s.id);
        if (tr) {
          const fresh = row(s);
          tr.replaceWith(fresh);
          state.rows.set(s.id, fresh);
        } else if (!state.cursor && matches(s) && s.status === 'active') {
          state.fresh = (state.fresh ?? 0) + 1;
          newHint.textContent = `${state.fresh} new — show`;
          newHint.hidden = false;
        }
      }
    }),
    live.onReopen(load),
  ];

  state.onQuery = (q) => {
    readQuery(q);
    state.prev = [];
    load();
  };
  readQuery(query);
  load();

  return () => {
    state.alive = false;
    clearTimeout(debounce);
    for (const off of offs) off();
    if (current === state) current = null;
  };
}

// A new deep link into this page while it is mounted (e.g. a link with other filters).
export function onQuery(query) {
  if (current) current.onQuery(query);
}
