// The overview's per-minute counts (events, errors, sessions started) kept up to date from the
// pushed "events" messages (docs/API.md, WebSocket /ws). DOM-free, unit-tested.
//
// The server's preview lists only the newest events of each 250 ms window, so the counts come from
// the message's "tally" (exact, every event of the window). The full feed tallies a window on its
// first message only; the rest of that window's messages, and a one-session subscription's
// messages, carry none and are counted already. A message without a tally is counted from its
// events only as long as the server has not sent a tally (an older server).
export const MINUTE = 60000;

// [{minute, events, errors, starts}] of one pushed message, ascending minutes. `state` is one
// object kept across the messages of a connection ({} to start).
export function messageCounts(msg, state) {
  if (Array.isArray(msg.tally)) {
    state.tallied = true;
    return msg.tally
      .map((t) => ({
        minute: Number(t.minute), events: Number(t.events) || 0,
        errors: Number(t.errors) || 0, starts: Number(t.starts) || 0,
      }))
      .sort((a, b) => a.minute - b.minute);
  }
  if (state.tallied || msg.sessionId !== undefined || !Array.isArray(msg.events)) return [];
  const byMinute = new Map();
  for (const e of msg.events) {
    const minute = Math.floor(e.timestamp / MINUTE) * MINUTE;
    let c = byMinute.get(minute);
    if (!c) byMinute.set(minute, (c = { minute, events: 0, errors: 0, starts: 0 }));
    c.events++;
    if (e.eventType === 'error') c.errors++;
    if (e.eventType === 'start') c.starts++;
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}

// Adds `counts` to `series` ({t, events, errors, sessionsStarted}: parallel arrays, one entry
// per minute, ascending) in place. A newer minute slides the window (same length, oldest minutes
// out); counts older than the window are ignored. Returns whether anything changed.
export function addCounts(series, counts) {
  if (!series.t.length) return false;
  let changed = false;
  for (const c of counts) {
    if (c.minute < series.t[0]) continue;
    let last = series.t[series.t.length - 1];
    while (c.minute > last) {
      last += MINUTE;
      series.t.push(last);
      series.events.push(0);
      series.errors.push(0);
      series.sessionsStarted.push(0);
      series.t.shift();
      series.events.shift();
      series.errors.shift();
      series.sessionsStarted.shift();
    }
    const i = series.t.indexOf(c.minute);
    if (i < 0) continue;
    series.events[i] += c.events;
    series.errors[i] += c.errors;
    series.sessionsStarted[i] += c.starts;
    changed = true;
  }
  return changed;
}
