// Unit tests of the dashboard's DOM-free modules (web/src/format.js, the JSON and summary
// helpers of web/src/stream_text.js, the overview's live counts in web/src/live_counts.js), run by
// node's test runner:
//   node --test tests/browser/web_units.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtInt, fmtPct, fmtDuration, fmtUsd, fmtCompact, fmtBytes, shortId, fmtAgo } from '../../web/src/format.js';
import { tryParseJson, eventSummary } from '../../web/src/stream_text.js';
import { MINUTE, addCounts, messageCounts } from '../../web/src/live_counts.js';

test('numbers are formatted without locale surprises', () => {
  assert.equal(fmtInt(1234567), '1,234,567');
  assert.equal(fmtInt(0), '0');
  assert.equal(fmtInt(null), '—');
  assert.equal(fmtPct(5.8823, 2), '5.88%');
  assert.equal(fmtUsd(1.256), '$1.26');
  assert.equal(fmtUsd(1234.4), '$1234');
  assert.equal(fmtCompact(12345), '12.3k');
  assert.equal(fmtCompact(2500000), '2.50M');
  assert.equal(fmtCompact(999), '999');
  assert.equal(fmtBytes(737280), '720.0 KiB');
  assert.equal(fmtBytes(12), '12 B');
});

test('durations pick their unit', () => {
  assert.equal(fmtDuration(40), '40 ms');
  assert.equal(fmtDuration(17800), '17.8 s');
  assert.equal(fmtDuration(72000), '1m 12s');
  assert.equal(fmtDuration(3 * 3600e3 + 5 * 60e3), '3h 5m');
  assert.equal(fmtDuration(undefined), '—');
  assert.equal(fmtAgo(1000, 61000), '1m ago');
  assert.equal(fmtAgo(5000, 1000), 'in the future');
});

test('long ids are shortened, short ones kept', () => {
  assert.equal(shortId('d356e975-65db-40db-a936-b0109e024cb1'), 'd356e975…');
  assert.equal(shortId('s-1'), 's-1');
});

test('only whole JSON objects and arrays count as JSON', () => {
  assert.deepEqual(tryParseJson(' {"tool":"Grep"} '), { tool: 'Grep' });
  assert.deepEqual(tryParseJson('[1,2]'), [1, 2]);
  assert.equal(tryParseJson('{not json}'), undefined);
  assert.equal(tryParseJson('"a string"'), undefined);
  assert.equal(tryParseJson('42'), undefined);
  assert.equal(tryParseJson('Here is {"a":1} inline'), undefined);
  assert.equal(tryParseJson(null), undefined);
});

test('event summaries read as text', () => {
  assert.equal(eventSummary({ eventType: 'stream', streamData: '{"tool":"Grep","input":{"pattern":"x","path":"src/"}}' }),
               '⚙ Grep pattern=x path=src/');
  assert.equal(eventSummary({ eventType: 'stream', streamData: 'plain <b>text</b>' }), 'plain <b>text</b>');
  assert.equal(eventSummary({ eventType: 'start', prompt: 'Fix it' }), 'Fix it');
  assert.equal(eventSummary({ eventType: 'start', prompt: null }), '(start)');
  assert.equal(eventSummary({ eventType: 'end', metadata: { status: 'success', duration: 40 } }),
               'end · status success · 40 ms');
  assert.equal(eventSummary({ eventType: 'error', error: { message: 'boom' }, streamData: 'x' }), 'boom');
  assert.equal(eventSummary({ eventType: 'error', streamData: 'OOMKilled' }), 'OOMKilled');
});

test('live counts come from the tally, not from the few events a preview lists', () => {
  const t0 = 1764000000000;  // a whole minute
  const state = {};
  // A preview: 2 of the window's 7 events listed, the tally counts all 7 over two minutes.
  const preview = {
    type: 'events', omitted: 5,
    events: [{ id: 6, timestamp: t0 + MINUTE + 1, eventType: 'stream' },
             { id: 7, timestamp: t0 + MINUTE + 2, eventType: 'end' }],
    tally: [{ minute: t0 + MINUTE, events: 3, errors: 0, starts: 0 },
            { minute: t0, events: 4, errors: 1, starts: 2 }],
  };
  assert.deepEqual(messageCounts(preview, state), [
    { minute: t0, events: 4, errors: 1, starts: 2 },
    { minute: t0 + MINUTE, events: 3, errors: 0, starts: 0 },
  ]);
  // Once the server tallies, messages without a tally (the rest of a full window, one session's
  // events) are counted already.
  assert.deepEqual(messageCounts({ type: 'events', events: [{ timestamp: t0, eventType: 'start' }] }, state), []);
  // Without any tally yet (an older server), the events themselves are counted.
  assert.deepEqual(messageCounts({ type: 'events', events: [
    { timestamp: t0 + 5, eventType: 'start' }, { timestamp: t0 + 6, eventType: 'error' },
    { timestamp: t0 - 1, eventType: 'stream' }] }, {}), [
    { minute: t0 - MINUTE, events: 1, errors: 0, starts: 0 },
    { minute: t0, events: 2, errors: 1, starts: 1 },
  ]);
  assert.deepEqual(messageCounts({ type: 'events', sessionId: 's', events: [{ timestamp: t0 }] }, {}), []);
});

test('live counts add into their minute and slide the window', () => {
  const t0 = 1764000000000;
  const series = { t: [t0, t0 + MINUTE, t0 + 2 * MINUTE], events: [1, 2, 3], errors: [0, 0, 1], sessionsStarted: [1, 0, 0] };
  assert.equal(addCounts(series, [{ minute: t0 + MINUTE, events: 10, errors: 2, starts: 1 }]), true);
  assert.deepEqual(series.events, [1, 12, 3]);
  assert.deepEqual(series.errors, [0, 2, 1]);
  assert.deepEqual(series.sessionsStarted, [1, 1, 0]);
  // Two minutes past the end: the window moves by two, same length.
  assert.equal(addCounts(series, [{ minute: t0 + 4 * MINUTE, events: 5, errors: 0, starts: 3 }]), true);
  assert.deepEqual(series.t, [t0 + 2 * MINUTE, t0 + 3 * MINUTE, t0 + 4 * MINUTE]);
  assert.deepEqual(series.events, [3, 0, 5]);
  assert.deepEqual(series.sessionsStarted, [0, 0, 3]);
  // Older than the window: ignored.
  assert.equal(addCounts(series, [{ minute: t0, events: 9, errors: 9, starts: 9 }]), false);
  assert.deepEqual(series.events, [3, 0, 5]);
  assert.equal(addCounts({ t: [], events: [], errors: [], sessionsStarted: [] }, [{ minute: t0, events: 1 }]), false);
});
