// Overview: the figure cards, live throughput and error charts, and the live event stream.
import { getJson } from '../api.js';
import { h, replace, errorBox, sessionHref } from '../dom.js';
import { fmtClock, fmtCompact, fmtDuration, fmtInt, fmtNum, fmtPct, fmtUsd, shortId } from '../format.js';
import { TimeChart, chartBox } from '../chart.js';
import { eventSummary } from '../stream_text.js';
import { MINUTE, addCounts, messageCounts } from '../live_counts.js';

const STREAM_MAX = 100;

// key in GET /api/dashboard (docs/API.md) -> label, formatter, hint
const CARDS = [
  ['activeSessions', 'Active sessions', fmtInt],
  ['eventsPerMinute', 'Events / min', (v) => fmtNum(v, 1)],
  ['errorRate', 'Error rate', (v) => fmtPct(v, 2)],
  ['avgDurationMs', 'Avg duration', fmtDuration],
  ['p95DurationMs', 'p95 duration', fmtDuration],
  ['tokens', 'Tokens', fmtCompact],
  ['costUsd', 'Cost', fmtUsd],
];

export function mount(root, { live }) {
  document.title = 'Overview · VibeKit';
  const cards = new Map();
  const cardRow = h('section', { class: 'cards', 'data-testid': 'cards' },
    CARDS.map(([key, label]) => {
      const value = h('div', { class: 'value' }, '—');
      const hint = h('div', { class: 'hint' }, '\u00a0');
      const card = h('div', { class: 'card', dataset: { card: key } },
        h('div', { class: 'label' }, label), value, hint);
      cards.set(key, { card, value, hint });
      return card;
    }));
  const status = h('div');
  const throughputBox = chartBox();
  const errorsBox = chartBox();
  const streamList = h('ul', { class: 'stream-list', 'data-testid': 'event-stream' });
  const streamCount = h('span', { class: 'sub' });
  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Overview'),
      h('span', { class: 'sub', 'data-testid': 'window' }, 'last 60 minutes')),
    status, cardRow,
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel' }, throughputBox),
      h('section', { class: 'panel' }, errorsBox)),
    h('section', { class: 'panel' },
      h('div', { class: 'page-head' }, h('h2', null, 'Live event stream'), streamCount),
      streamList));

  const throughput = new TimeChart(throughputBox, {
    title: 'Throughput (per minute)',
    series: [{ label: 'events', color: '--accent', fill: true },
             { label: 'sessions started', color: '--accent-2' }],
  });
  const errorsChart = new TimeChart(errorsBox, {
    title: 'Errors (per minute)',
    series: [{ label: 'errors', color: '--bad', fill: true }],
  });

  let series = { t: [], events: [], errors: [], sessionsStarted: [] };
  const seen = new Set();
  let alive = true;
  let drawTimer = null;

  function setCards(d) {
    const values = { ...d, tokens: (d.inputTokens ?? 0) + (d.outputTokens ?? 0) };
    for (const [key, , fmt] of CARDS) {
      const c = cards.get(key);
      const v = values[key];
      c.card.dataset.value = v === undefined || v === null ? '' : String(v);
      c.value.textContent = fmt(v);
    }
    cards.get('tokens').hint.textContent =
      `in ${fmtCompact(d.inputTokens ?? 0)} · out ${fmtCompact(d.outputTokens ?? 0)}`;
    cards.get('errorRate').card.classList.toggle('bad', (d.errorRate ?? 0) > 5);
  }

  function drawSeries() {
    const t = series.t.map(Number);
    throughput.setData([t, series.events, series.sessionsStarted ?? t.map(() => 0)]);
    errorsChart.setData([t, series.errors]);
  }

  // Adds a pushed message's per-minute counts (its tally: exact even when the message lists
  // only the window's newest events); the window slides when a new minute starts.
  const countState = {};
  function addToSeries(msg) {
    if (addCounts(series, messageCounts(msg, countState)) && !drawTimer) {
      drawTimer = setTimeout(() => {
        drawTimer = null;
        drawSeries();
      }, 250);
    }
  }

  function streamRow(e, fresh) {
    const text = eventSummary(e);
    return h('li', { class: fresh ? 'fresh' : '', dataset: { eventId: e.id, sessionId: e.sessionId } },
      h('span', { class: 'when mono' }, fmtClock(e.timestamp)),
      h('span', null, h('span', { class: `badge ${e.eventType}` }, e.eventType)),
      h('span', { class: 'truncate' }, e.agentType),
      h('a', { href: sessionHref(e.sessionId), class: 'mono', title: e.sessionId }, shortId(e.sessionId)),
      h('span', { class: 'txt', title: text.slice(0, 500) }, text));
  }

  function pushEvents(events, fresh) {
    // Pushed events arrive oldest first within a commit; the list shows newest on top.
    const sorted = [...events].sort((a, b) => a.id - b.id);
    for (const e of sorted) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      streamList.insertBefore(streamRow(e, fresh), streamList.firstChild);
    }
    while (streamList.children.length > STREAM_MAX) {
      seen.delete(Number(streamList.lastChild.dataset.eventId));
      streamList.removeChild(streamList.lastChild);
    }
    streamCount.textContent = `${streamList.children.length} most recent`;
  }

  async function load() {
    try {
      const [dash, recent] = await Promise.all([
        getJson('/api/dashboard', { minutes: 60 }),
        getJson('/api/events', { limit: 50 }),
      ]);
      if (!alive) return;
      replace(status);
      setCards(dash);
      if (dash.series && Array.isArray(dash.series.t)) {
        series = {
          t: [...dash.series.t],
          events: [...(dash.series.events ?? [])],
          errors: [...(dash.series.errors ?? [])],
          sessionsStarted: [...(dash.series.sessionsStarted ?? dash.series.t.map(() => 0))],
        };
        drawSeries();
      }
      pushEvents([...recent.events].reverse(), false);
      root.dataset.loaded = 'true';
    } catch (err) {
      if (alive) replace(status, errorBox(`Could not load the dashboard: ${err.message}`));
    }
  }

  let pending = [];
  let flushTimer = null;
  const offs = [
    live.subscribe(['events', 'metrics']),
    live.on('events', (m) => {
      if (!Array.isArray(m.events)) return;
      // Under heavy ingest pushes arrive many times a second: the list is redrawn at most
      // every 200 ms with the newest rows only; the charts count every event (the tally).
      pending.push(...m.events);
      if (pending.length > STREAM_MAX) pending.splice(0, pending.length - STREAM_MAX);
      if (!flushTimer) {
        flushTimer = setTimeout(() => {
          flushTimer = null;
          const batch = pending;
          pending = [];
          pushEvents(batch, true);
        }, 200);
      }
      addToSeries(m);
    }),
    live.on('metrics', (m) => {
      if (m.dashboard) setCards(m.dashboard);
    }),
    live.onReopen(load),
  ];
  // The chart window slides even when nothing happens.
  const refresh = setInterval(load, MINUTE);
  load();

  return () => {
    alive = false;
    clearInterval(refresh);
    clearTimeout(flushTimer);
    clearTimeout(drawTimer);
    for (const off of offs) off();
    throughput.destroy();
    errorsChart.destroy();
  };
}
