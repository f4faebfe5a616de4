// Unit tests of the dashboard's DOM-free modules (web/src/format.js, the JSON and summary
// helpers of web/src/stream_text.js), run by node's test runner:
//   node --test tests/browser/web_units.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtInt, fmtPct, fmtDuration, fmtUsd, fmtCompact, fmtBytes, shortId, fmtAgo } from '../../web/src/format.js';
import { tryParseJson, eventSummary } from '../../web/src/stream_text.js';

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
