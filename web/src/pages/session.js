// One session: header with status and counters, metadata, and the full timeline (prompt,
// streamed output merged into readable text, tool calls as blocks, errors, end). New events of
// the session are appended live (a per-session WebSocket subscription).
import { getJson } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { fmtDuration, fmtInt, fmtTime } from '../format.js';
import { textBlock, tryParseJson, jsonBlock } from '../stream_text.js';

function metaGrid(obj) {
  const entries = Object.entries(obj ?? {});
  if (!entries.length) return h('div', { class: 'small' }, 'none');
  return h('dl', { class: 'meta-grid' }, entries.map(([k, v]) => [
    h('dt', null, k),
    h('dd', { class: typeof v === 'object' && v !== null ? 'mono' : '' },
      typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)),
  ]));
}

export function mount(root, { id, live }) {
  document.title = `Session ${id} · VibeKit`;
  const head = h('div', { class: 'session-title' });
  const msg = h('div');
  const counters = h('section', { class: 'cards', 'data-testid': 'session-counters' });
  const info = h('section', { class: 'panel' });
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  root.append(
    h('div', { class: 'page-head' },
      h('a', { href: '#/sessions' }, '← Sessions'), head),
    msg, counters,
    h('div', { class: 'session-grid' },
      h('section', { class: 'panel' }, h('h2', null, 'Timeline'), timeline),
      info));

  let alive = true;
  let session = null;
  let startTime = null;
  const errorsByEvent = new Map();
  const shown = new Set();
  let openOutput = null;  // the last plain-text output block, extended by following chunks

  function renderSession(s) {
    session = s;
    startTime = s.startTime;
    replace(head,
      h('h1', { class: 'mono' }, s.id), ' ',
      h('span', { class: `badge ${s.status}`, 'data-testid': 'session-status' }, s.status));
    const duration = s.duration ?? (s.endTime ? s.endTime - s.startTime : null);
    const card = (label, value, key) => h('div', { class: 'card', dataset: { card: key } },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    replace(counters,
      card('Events', fmtInt(s.eventCount), 'eventCount'),
      card('Stream chunks', fmtInt(s.streamEventCount), 'streamEventCount'),
      card('Errors', fmtInt(s.errorCount), 'errorCount'),
      card('Duration', duration === null ? (s.status === 'active' ? 'running' : '—') : fmtDuration(duration), 'duration'));
    replace(info,
      h('h2', null, 'Details'),
      h('dl', { class: 'meta-grid' },
        h('dt', null, 'Agent'), h('dd', null, s.agentType),
        h('dt', null, 'Mode'), h('dd', null, s.mode || '—'),
        h('dt', null, 'Started'), h('dd', null, fmtTime(s.startTime)),
        h('dt', null, 'Ended'), h('dd', null, s.endTime ? fmtTime(s.endTime) : '—'),
        h('dt', null, 'Last event'), h('dd', null, fmtTime(s.lastEventTime)),
        h('dt', null, 'Sandbox'), h('dd', { class: 'mono' }, s.sandboxId || '—'),
        h('dt', null, 'Repository'), h('dd', { class: 'mono' }, s.repoUrl || '—')),
      h('h2', { style: 'margin-top:14px' }, 'Metadata'),
      metaGrid(s.metadata));
  }

  function offset(ts) {
    if (startTime === null || startTime === undefined) return '';
    const d = ts - startTime;
    return d >= 0 ? `+${fmtDuration(d)}` : `${fmtDuration(d)}`;
  }

  function item(e, cls, title, body) {
    return h('li', { class: cls, dataset: { eventId: e.id, type: e.eventType } },
      h('div', { class: 'tl-head' },
        h('span', { class: `badge ${e.eventType}` }, title),
        h('span', { class: 'mono', title: fmtTime(e.timestamp) }, offset(e.timestamp)),
        h('span', null, fmtTime(e.timestamp))),
      h('div', { class: 'tl-body' }, body));
  }

  function addEvent(e) {
    if (shown.has(e.id)) return;
    shown.add(e.id);
    if (e.eventType === 'stream') {
      const json = tryParseJson(e.streamData);
      if (json === undefined) {
        if (openOutput) {
          openOutput.pre.textContent += e.streamData ?? '';
          openOutput.count++;
          openOutput.label.textContent = `${openOutput.count} chunks`;
          openOutput.li.dataset.lastEventId = e.id;
          return;
        }
        const pre = h('pre', { class: 'text' }, e.streamData ?? '');
        const label = h('div', { class: 'output-chunks' }, '1 chunk');
        const li = item(e, 'stream', 'output', [label, pre]);
        timeline.appendChild(li);
        openOutput = { pre, label, li, count: 1 };
        return;
      }
      openOutput = null;
      timeline.appendChild(item(e, 'stream tool', 'tool', jsonBlock(json)));
      return;
    }
    openOutput = null;
    if (e.eventType === 'start') {
      timeline.appendChild(item(e, 'start', 'start', [
        h('div', { class: 'small' }, 'Prompt'),
        e.prompt ? textBlock(e.prompt) : h('div', { class: 'small' }, '(no prompt)'),
        e.metadata && Object.keys(e.metadata).length
          ? h('details', null, h('summary', { class: 'small' }, 'start metadata'), metaGrid(e.metadata))
          : null,
      ]));
    } else if (e.eventType === 'error') {
      const rec = errorsByEvent.get(e.id);
      const err = e.error ?? {};
      const type = err.type ?? rec?.errorType ?? 'error';
      const message = err.message ?? rec?.errorMessage ?? e.streamData ?? '';
      const severity = err.severity ?? rec?.severity;
      timeline.appendChild(item(e, 'error', 'error', h('div', { class: 'err-block' },
        h('div', { class: 'err-title' }, type, severity ? ` · ${severity}` : ''),
        h('pre', { class: 'text' }, message),
        (err.stack ?? rec?.errorStack) ? h('details', null, h('summary', { class: 'small' }, 'stack'),
          h('pre', { class: 'text' }, err.stack ?? rec.errorStack)) : null,
        e.metadata && Object.keys(e.metadata).length ? metaGrid(e.metadata) : null)));
    } else if (e.eventType === 'end') {
      timeline.appendChild(item(e, 'end', 'end', metaGrid(e.metadata)));
    } else {
      timeline.appendChild(item(e, '', e.eventType, textBlock(e.streamData ?? '')));
    }
  }

  async function load() {
    try {
      const r = await getJson(`/api/sessions/${encodeURIComponent(id)}`);
      if (!alive) return;
      replace(msg);
      errorsByEvent.clear();
      for (const rec of r.errors ?? []) if (rec.eventId !== null) errorsByEvent.set(rec.eventId, rec);
      renderSession(r.session);
      replace(timeline);
      shown.clear();
      openOutput = null;
      for (const e of r.events) addEvent(e);
      if (r.eventsTruncated) {
        timeline.appendChild(h('li', { class: 'small', 'data-testid': 'truncated' },
          `Only the first ${fmtInt(r.events.length)} of ${fmtInt(r.session.eventCount)} events are shown.`));
      }
      if (!r.events.length) timeline.appendChild(h('li', { class: 'empty' }, 'No events.'));
      root.dataset.loaded = 'true';
    } catch (err) {
      if (!alive) return;
      replace(msg, errorBox(err.status === 404 ? `No session with id ${id}.`
                                                : `Could not load the session: ${err.message}`));
    }
  }

  const offs = [
    live.subscribeSession(id),
    live.on('events', (m) => {
      if (!session || !Array.isArray(m.events)) return;
      const mine = m.events.filter((e) => e.sessionId === id).sort((a, b) => a.id - b.id);
      for (const e of mine) addEvent(e);
    }),
    live.on('sessions', (m) => {
      if (!Array.isArray(m.sessions)) return;
      const s = m.sessions.find((x) => x.id === id);
      if (s) renderSession(s);
    }),
    live.onReopen(load),
  ];
  load();

  return () => {
    alive = false;
    for (const off of offs) off();
  };
}
