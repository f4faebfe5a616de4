// Entry point: token capture, theme, the live connection and its indicator, and the hash
// router (#/, #/sessions?…, #/sessions/<id>, #/agents, #/insights, #/health) so deep links work.
import { captureToken } from './api.js';
import { initTheme } from './theme.js';
import { Live } from './live.js';
import { h, replace } from './dom.js';
import * as overview from './pages/overview.js';
import * as sessions from './pages/sessions.js';
import * as session from './pages/session.js';
import * as agents from './pages/agents.js';
import * as insights from './pages/insights.js';
import * as health from './pages/health.js';

captureToken();
initTheme(document.getElementById('theme-toggle'));

const live = new Live();
window.vibekitLive = live;  // inspected by the browser tests (state, dropped count)

const conn = document.getElementById('conn');
const connText = conn.querySelector('.conn-text');
let countdown = null;
live.onState((state) => {
  conn.dataset.state = state;
  clearInterval(countdown);
  if (state === 'live') {
    connText.textContent = 'live';
    conn.title = 'Connected: updates arrive as they are committed';
  } else if (state === 'connecting') {
    connText.textContent = 'connecting…';
    conn.title = 'Connecting to the live feed';
  } else {
    const tick = () => {
      const s = Math.max(0, Math.ceil((live.retryAt - Date.now()) / 1000));
      connText.textContent = `offline · retry in ${s}s`;
    };
    tick();
    countdown = setInterval(tick, 500);
    conn.title = 'Disconnected: click to retry now';
  }
});
conn.addEventListener('click', () => live.retryNow());
live.start();

// Parses "#/sessions/abc?x=1" into {parts: ['sessions','abc'], query: URLSearchParams}.
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query };
}

function resolve({ parts }) {
  if (parts.length === 0) return ['overview', overview, {}];
  if (parts[0] === 'sessions' && parts.length === 1) return ['sessions', sessions, {}];
  if (parts[0] === 'sessions' && parts.length === 2) return ['sessions', session, { id: parts[1] }];
  if (parts.length === 1 && parts[0] === 'agents') return ['agents', agents, {}];
  if (parts.length === 1 && parts[0] === 'insights') return ['insights', insights, {}];
  if (parts.length === 1 && parts[0] === 'health') return ['health', health, {}];
  return [null, null, {}];
}

const app = document.getElementById('app');
let unmount = null;
let mountedKey = null;

function route() {
  const parsed = parseHash();
  const [name, page, params] = resolve(parsed);
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.route === name);
  }
  // A page that keeps its query in the hash itself (filters) is not remounted for that.
  const key = `${name}:${params.id ?? ''}`;
  if (key === mountedKey && page && page.onQuery) {
    page.onQuery(parsed.query);
    return;
  }
  if (unmount) {
    try {
      unmount();
    } catch (err) {
      console.error(err);
    }
  }
  unmount = null;
  mountedKey = key;
  replace(app);
  window.scrollTo(0, 0);
  if (!page) {
    app.appendChild(h('div', { class: 'panel' }, h('h1', null, 'Page not found'),
      h('p', null, 'No page at ', h('code', null, location.hash), '. ',
        h('a', { href: '#/' }, 'Go to the overview'), '.')));
    document.title = 'Not found · VibeKit';
    return;
  }
  unmount = page.mount(app, { ...params, query: parsed.query, live });
}

window.addEventListener('hashchange', () => {
  captureToken();  // a #token= pasted into an open tab
  route();
});
route();
