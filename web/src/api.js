// HTTP access to the server's API (docs/API.md): same origin, relative URLs, bearer token.
//
// The token arrives once in the URL fragment (#token=T, or &token=T inside a route's query),
// is kept in sessionStorage and removed from the address bar so it is not bookmarked or shared.

const TOKEN_KEY = 'vibekit.token';

export function captureToken() {
  const hash = location.hash;
  const m = hash.match(/(^#|[?&])token=([^&]*)/);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[2]));
  let rest = hash.replace(/([?&])token=[^&]*&?/, '$1').replace(/^#token=[^&]*&?/, '#');
  rest = rest.replace(/[?&]$/, '');
  if (rest === '#' || rest === '') rest = '#/';
  history.replaceState(null, '', `${location.pathname}${location.search}${rest}`);
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers() {
  const t = token();
  const out = { Accept: 'application/json' };
  if (t) out.Authorization = `Bearer ${t}`;
  return out;
}

// GET path with the non-empty params as a query string; resolves to the parsed JSON or throws
// ApiError carrying the server's {"error": ...} message.
export async function getJson(path, params = {}, { signal } = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const url = qs.toString() ? `${path}?${qs}` : path;
  let res;
  try {
    res = await fetch(url, { headers: headers(), signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, `cannot reach the server (${err.message})`);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok && !(res.status === 503 && path === '/api/health' && body)) {
    let message = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    if (res.status === 401) {
      message = `${message}. This server needs a token: open the dashboard as …/#token=<token>`;
    } else if (res.status === 403) {
      message = `${message}. The token given in #token= is not the server's`;
    }
    throw new ApiError(res.status, message);
  }
  if (body === null) throw new ApiError(res.status, `${path}: the answer is not JSON`);
  return body;
}

// ws(s)://<this host>/ws, with ?token= because browsers cannot set headers on a WebSocket.
export function wsUrl() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const t = token();
  return `${proto}://${location.host}/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`;
}
