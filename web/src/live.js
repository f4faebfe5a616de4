// The live connection: one WebSocket to /ws shared by every page.
//
// Pages subscribe to channels ("events", "sessions", "metrics", "alerts", "health") or to one
// session id and get a function that undoes it; subscriptions are reference counted and replayed
// after every reconnect. The socket reconnects by itself with exponential backoff (0.5 s doubling
// to 10 s, with jitter) and reports its state ("connecting", "live" once the server has answered
// the replayed subscriptions, "offline") to listeners, which drive the connection indicator. After a reconnect, and when the server says this client
// missed messages ("dropped"), "reopen" listeners run so pages reload what they may have missed.
import { wsUrl } from './api.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

export class Live {
  constructor(url = wsUrl) {
    this.url = url;
    this.ws = null;
    this.state = 'connecting';
    this.retryAt = null;
    this.attempt = 0;
    this.opened = false;  // ever opened: the next open is a reconnect
    this.pendingSubscriptions = 0;  // replayed subscriptions the server has not answered yet
    this.channels = new Map();  // channel -> count
    this.sessions = new Map();  // session id -> count
    this.handlers = new Map();  // message type -> Set(fn)
    this.stateListeners = new Set();
    this.reopenListeners = new Set();
    this.timer = null;
    this.dropped = 0;
  }

  start() {
    this.connect();
  }

  connect() {
    clearTimeout(this.timer);
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      // "live" once the server has answered every subscription replayed here: from its
      // "subscribed" answer on, every commit reaches this page (a commit between the socket's
      // opening and that answer would not, so the indicator must not say live before it).
      const channels = [...this.channels.keys()];
      this.pendingSubscriptions = 0;
      if (channels.length) this.sendSubscription({ type: 'subscribe', channels });
      for (const id of this.sessions.keys()) this.sendSubscription({ type: 'subscribe', sessionId: id });
      if (this.pendingSubscriptions === 0) this.setState('live');
      if (this.opened) for (const fn of this.reopenListeners) fn();
      this.opened = true;
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'subscribed' && this.pendingSubscriptions > 0 && --this.pendingSubscriptions === 0) {
        this.setState('live');
      }
      if (msg.type === 'dropped') {
        // This client read too slowly and missed pushes: the pages reload what they show.
        this.dropped += Number(msg.count) || 0;
        for (const fn of this.reopenListeners) fn();
      }
      const fns = this.handlers.get(msg.type);
      if (fns) for (const fn of [...fns]) fn(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState('offline');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Reconnect now (the indicator's "retry" click).
  retryNow() {
    if (this.state === 'offline') this.connect();
  }

  sendSubscription(msg) {
    this.pendingSubscriptions++;
    this.send(msg);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  setState(state) {
    this.state = state;
    for (const fn of this.stateListeners) fn(state, this);
  }

  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.state, this);
    return () => this.stateListeners.delete(fn);
  }

  onReopen(fn) {
    this.reopenListeners.add(fn);
    return () => this.reopenListeners.delete(fn);
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  subscribe(channels) {
    const fresh = [];
    for (const c of channels) {
      const n = this.channels.get(c) ?? 0;
      this.channels.set(c, n + 1);
      if (n === 0) fresh.push(c);
    }
    if (fresh.length) this.send({ type: 'subscribe', channels: fresh });
    return () => {
      const gone = [];
      for (const c of channels) {
        const n = this.channels.get(c) ?? 0;
        if (n <= 1) {
          this.channels.delete(c);
          gone.push(c);
        } else {
          this.channels.set(c, n - 1);
        }
      }
      if (gone.length) this.send({ type: 'unsubscribe', channels: gone });
    };
  }

  subscribeSession(id) {
    const n = this.sessions.get(id) ?? 0;
    this.sessions.set(id, n + 1);
    if (n === 0) this.send({ type: 'subscribe', sessionId: id });
    return () => {
      const m = this.sessions.get(id) ?? 0;
      if (m <= 1) {
        this.sessions.delete(id);
        this.send({ type: 'unsubscribe', sessionId: id });
      } else {
        this.sessions.set(id, m - 1);
      }
    };
  }
}
