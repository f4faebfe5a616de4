// Browser tests of the dashboard (web/): Debian's chromium driven by playwright-core against a
// real `vibekit dashboard`.
//
//   node tests/browser/dashboard.test.mjs <vibekit binary> <temp dir> [<screenshots dir>]
//
// Fills a database (`vibekit demo` plus sessions posted with current timestamps), builds the web
// assets into the temp dir, starts the dashboard on free ports, then shows: the overview's cards
// carry the numbers of GET /api/dashboard; an event POSTed to /api/events appears in the open page
// within 2 s without a reload (and its markup is shown as text); the sessions table filters
// (status, agent, search, paging, deep links) and its rows are the API's rows; a session page shows
// its timeline and grows live; agents, insights and health render; dark mode follows the system
// and the toggle (kept across reloads); the page reconnects by itself after a server restart.
// Saves a screenshot of each page. Exits 1 with a message naming the failed check.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const [binArg, tmpArg, shotsArg] = process.argv.slice(2);
if (!binArg || !tmpArg) {
  console.error('usage: dashboard.test.mjs <vibekit binary> <temp dir> [<screenshots dir>]');
  process.exit(2);
}
const bin = resolve(binArg);
const tmp = resolve(tmpArg);
const shots = resolve(shotsArg ?? join(tmp, 'screenshots'));
const t0 = Date.now();
const children = new Set();

function fail(message) {
  throw new Error(message);
}

function log(message) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`);
}

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
  } catch (err) {
    err.message = `${name}: ${err.message}`;
    throw err;
  }
  log(`ok  ${name} (${Date.now() - start} ms)`);
}

// Polls fn until it returns a truthy value; fails with describe() after timeoutMs.
async function until(fn, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) fail(typeof describe === 'function' ? await describe() : describe);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// The server.

let ports = null;  // {api, dash}: fixed after the first start so a restart reuses them
let server = null;

function startServer(db, webDir, extra = []) {
  const args = ['dashboard', '--db', db, '--port', String(ports?.api ?? 0),
                '--dashboard-port', String(ports?.dash ?? 0), '--no-open', '--no-build',
                '--web-dir', webDir, ...extra];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolveStart, rejectStart) => {
    const found = {};
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`vibekit dashboard printed no start-up lines within 20 s; stderr:\n${stderr}`));
    }, 20000);
    child.on('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      if (!found.api || !found.dash) {
        rejectStart(new Error(`vibekit ${args.join(' ')} exited (${code ?? signal}) before listening; stderr:\n${stderr}`));
      }
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m = line.match(/^VibeKit server: (http:\/\/\S+?)\/?$/);
      if (m) found.api = m[1];
      m = line.match(/^VibeKit dashboard: (http:\/\/\S+?)\/?$/);
      if (m) found.dash = m[1];
      if (found.api && found.dash && !found.done) {
        found.done = true;
        clearTimeout(timer);
        ports = { api: Number(new URL(found.api).port), dash: Number(new URL(found.dash).port) };
        resolveStart({ child, api: found.api, dash: `${found.dash}/`, stderr: () => stderr });
      }
    });
  });
}

async function stopServer(s) {
  if (!s || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15000);
  await exited;
  clearTimeout(timer);
}

let apiToken = null;  // sent as a bearer token once the server runs with --token

async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (apiToken) headers.Authorization = `Bearer ${apiToken}`;
  const res = await fetch(`${server.api}${path}`, { ...init, headers });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`${init.method ?? 'GET'} ${path}: answer is not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) fail(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return body;
}

async function postEvents(events) {
  const r = await api('/api/events', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(events),
  });
  if (r.accepted !== events.length) fail(`POST /api/events accepted ${r.accepted} of ${events.length}: ${JSON.stringify(r.errors)}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Data posted with current timestamps, so the overview's last hour is not empty.

const runTag = `bp${Date.now().toString(36)}`;
const PROMPT = 'Fix `parse<T>(x)` in src/a.ts: it returns <b>null</b> & "throws" on \'\' input.';
const TOOL_CALL = { tool: 'Grep', input: { pattern: 'fetchWithTimeout', path: 'src/' } };
const CHUNKS = ['Looking at the parser…\n', 'The bug is in `parse`:\n', '```ts\nif (!x) return null;\n```\n'];

function probeSessions(now) {
  const events = [];
  const agents = ['codex', 'claude', 'gemini'];
  for (let i = 0; i < 18; i++) {
    const id = `${runTag}-${i}`;
    const agentType = agents[Math.floor(i / 2) % 3];
    const mode = i % 2 ? 'code' : 'review';
    const base = now - 50000 + i * 1000;
    const common = { sessionId: id, agentType, mode };
    events.push({ ...common, eventType: 'start', prompt: i === 0 ? PROMPT : `task ${i} for ${runTag}`,
                  sandboxId: `sbx-${runTag}-${i}`, repoUrl: `https://example.test/${runTag}/repo-${i % 4}`,
                  metadata: { userId: `user-${i}`, 'gen_ai.request.model': 'm-1' }, timestamp: base });
    CHUNKS.forEach((c, k) => events.push({ ...common, eventType: 'stream', streamData: c, timestamp: base + 10 + k }));
    events.push({ ...common, eventType: 'stream', streamData: JSON.stringify(TOOL_CALL), timestamp: base + 20 });
    if (i % 3 === 0) {
      events.push({ ...common, eventType: 'error', timestamp: base + 30,
                    error: { type: 'ToolError', message: `grep failed: <no such file> (${i})`, severity: 'high' } });
    } else if (i % 3 === 1) {
      events.push({ ...common, eventType: 'end', timestamp: base + 40,
                    metadata: { status: 'success', duration: 40, 'gen_ai.usage.input_tokens': 1000 + i,
                                'gen_ai.usage.output_tokens': 100 + i } });
    }
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Page helpers.

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function goto(page, hash) {
  await page.goto(`${server.dash}${hash}`);
  await page.waitForSelector('main[data-loaded]', { timeout: 10000 });
}

async function tableIds(page) {
  return page.$$eval('[data-testid="sessions-table"] tbody tr[data-session-id]',
                     (rows) => rows.map((r) => r.dataset.sessionId));
}

// Waits until the table shows exactly the API's first page for these filters.
async function expectRows(page, params, what) {
  const qs = new URLSearchParams({ limit: '50', ...params });
  let want;
  await until(async () => {
    want = (await api(`/api/sessions?${qs}`)).sessions.map((s) => s.id);
    const got = await tableIds(page);
    return JSON.stringify(got) === JSON.stringify(want);
  }, 5000, async () => `${what}: table rows ${JSON.stringify(await tableIds(page))} != API ${JSON.stringify(want)} (/api/sessions?${qs})`);
  return want;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: run scripts/install-deps.sh (Debian's chromium package)`);
  if (!existsSync(bin)) fail(`no vibekit binary at ${bin}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  mkdirSync(shots, { recursive: true });
  const db = join(tmp, 'telemetry.db');
  const dist = join(tmp, 'web');

  await step('fill the database (vibekit demo) and build the web assets', async () => {
    const demo = spawnSync(bin, ['demo', '--events', '1500', '--db', db], { encoding: 'utf8' });
    if (demo.status !== 0) fail(`vibekit demo failed (${demo.status}): ${demo.stderr}`);
    const build = spawnSync(process.execPath, [join(repo, 'web', 'build.mjs'), dist], { encoding: 'utf8' });
    if (build.status !== 0) fail(`node web/build.mjs failed: ${build.stderr}`);
  });

  await step('start vibekit dashboard on free ports', async () => {
    server = await startServer(db, dist);
    log(`    api ${server.api}, dashboard ${server.dash}`);
    await postEvents(probeSessions(Date.now()));
  });

  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmp, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
    colorScheme: 'light',
  });
  const pageErrors = [];
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });

    await step('overview cards show the numbers of GET /api/dashboard', async () => {
      await goto(page, '#/');
      const keys = ['activeSessions', 'eventsPerMinute', 'errorRate', 'avgDurationMs', 'p95DurationMs', 'costUsd'];
      let d;
      let got;
      await until(async () => {
        d = await api('/api/dashboard');
        got = await page.$$eval('[data-card]', (cs) => Object.fromEntries(cs.map((c) => [c.dataset.card, c.dataset.value])));
        const want = Object.fromEntries(keys.map((k) => [k, d[k] === null || d[k] === undefined ? '' : String(d[k])]));
        want.tokens = String((d.inputTokens ?? 0) + (d.outputTokens ?? 0));
        return Object.entries(want).every(([k, v]) => got[k] === v);
      }, 5000, () => `cards ${JSON.stringify(got)} != API ${JSON.stringify(d)}`);
      if (!(d.activeSessions > 0)) fail(`the API reports no active sessions (${JSON.stringify(d)}): the data did not arrive`);
      const shown = await page.textContent('[data-card="activeSessions"] .value');
      if (shown.trim() !== d.activeSessions.toLocaleString('en-US')) fail(`active sessions card shows "${shown}", API ${d.activeSessions}`);
      const newest = (await api('/api/events?limit=1')).events[0];
      await until(() => page.$(`[data-testid="event-stream"] li[data-event-id="${newest.id}"]`), 3000,
                  `the live stream does not show the newest event ${newest.id}`);
      const chartCount = await page.$$eval('.uplot', (c) => c.length);
      if (chartCount !== 2) fail(`expected 2 uPlot charts, found ${chartCount}`);
      await until(() => page.evaluate(() => window.vibekitLive.state === 'live'), 5000,
                  'the WebSocket never connected (indicator not "live")');
      await shot(page, 'overview');
    });

    await step('an event POSTed to /api/events appears within 2 s without reload, as text', async () => {
      await page.evaluate(() => { window.__noReload = true; });
      const id = `${runTag}-live`;
      const prompt = `<img src=x onerror="window.__xss=1"> live probe ${runTag}`;
      const start = Date.now();
      await postEvents([{ sessionId: id, eventType: 'start', agentType: 'codex', mode: 'code',
                          prompt, timestamp: Date.now() }]);
      await page.waitForSelector(`[data-testid="event-stream"] li[data-session-id="${id}"]`, { timeout: Math.max(1, 2000 - (Date.now() - start)) })
        .catch(() => fail(`the event of session ${id} was not in the live stream 2 s after the POST`));
      log(`    visible ${Date.now() - start} ms after the POST started`);
      const text = await page.textContent(`[data-testid="event-stream"] li[data-session-id="${id}"] .txt`);
      if (text !== prompt) fail(`stream row shows ${JSON.stringify(text)}, want the prompt as text`);
      if (await page.evaluate(() => window.__xss)) fail('markup in a prompt was executed');
      if (await page.$('[data-testid="event-stream"] img')) fail('markup in a prompt became an element');
      if (!(await page.evaluate(() => window.__noReload))) fail('the page reloaded');
      // The cards follow over the "metrics" channel.
      const want = (await api('/api/dashboard')).activeSessions;
      await until(async () => (await page.getAttribute('[data-card="activeSessions"]', 'data-value')) === String(want), 3000,
                  async () => `active sessions card ${await page.getAttribute('[data-card="activeSessions"]', 'data-value')} did not follow to ${want}`);
    });

    await step('the sessions table filters by status, agent and search, pages, and deep-links', async () => {
      await goto(page, '#/sessions');
      await expectRows(page, {}, 'no filter');
      const total = (await api('/api/sessions?limit=1')).total;
      const shownTotal = await page.textContent('[data-testid="total"]');
      if (!shownTotal.startsWith(total.toLocaleString('en-US'))) fail(`total shows "${shownTotal}", API ${total}`);

      await page.selectOption('select[name="status"]', 'failed');
      const failed = await expectRows(page, { status: 'failed' }, 'status=failed');
      if (!failed.length) fail('no failed sessions to show');
      const statuses = await page.$$eval('tbody tr[data-status]', (r) => [...new Set(r.map((x) => x.dataset.status))]);
      if (statuses.join() !== 'failed') fail(`rows with status ${statuses}`);

      await page.selectOption('select[name="agent"]', 'codex');
      const fc = await expectRows(page, { status: 'failed', agent: 'codex' }, 'status=failed&agent=codex');
      if (!fc.length || fc.length >= failed.length) fail(`agent filter did not narrow the rows (${fc.length} of ${failed.length})`);
      if (!page.url().includes('status=failed') || !page.url().includes('agent=codex')) fail(`filters are not in the URL: ${page.url()}`);

      await page.selectOption('select[name="status"]', '');
      await page.fill('input[name="q"]', `${runTag}/repo-1`);
      const searched = await expectRows(page, { agent: 'codex', q: `${runTag}/repo-1` }, 'agent=codex&q=…');
      if (!searched.length) fail('search found nothing');
      await shot(page, 'sessions-filtered');

      // Cursor paging over the unfiltered list.
      await page.click('button:has-text("Clear")');
      const first = await api('/api/sessions?limit=50');
      await expectRows(page, {}, 'cleared filters');
      if (!first.nextCursor) fail('the API gave no second page to test paging');
      await page.click('button:has-text("Older")');
      await expectRows(page, { cursor: first.nextCursor }, 'second page');
      await page.click('button:has-text("Newer")');
      await expectRows(page, {}, 'back to the first page');

      // A deep link opened fresh.
      await goto(page, '#/sessions?status=completed&agent=claude');
      await expectRows(page, { status: 'completed', agent: 'claude' }, 'deep link');
      if ((await page.inputValue('select[name="status"]')) !== 'completed') fail('deep link did not set the status filter');
      await shot(page, 'sessions');
    });

    await step('a session page shows its timeline and grows live', async () => {
      const id = `${runTag}-0`;
      await goto(page, `#/sessions?q=${runTag}-0`);
      await page.click(`tbody tr[data-session-id="${id}"] a`);
      await page.waitForSelector('[data-testid="timeline"] li[data-type]', { timeout: 5000 });
      const detail = await api(`/api/sessions/${encodeURIComponent(id)}`);
      const startText = await page.textContent('[data-testid="timeline"] li[data-type="start"] pre');
      if (startText !== PROMPT) fail(`prompt shown as ${JSON.stringify(startText)}`);
      const output = await page.textContent('[data-testid="timeline"] li.stream:not(.tool) pre');
      if (output !== CHUNKS.join('')) fail(`streamed output shown as ${JSON.stringify(output)}`);
      const tool = await page.textContent('[data-testid="timeline"] li.tool');
      if (!tool.includes('Tool call · Grep') || !tool.includes('pattern') || !tool.includes('fetchWithTimeout')) {
        fail(`tool call not rendered readably: ${JSON.stringify(tool)}`);
      }
      const err = await page.textContent('[data-testid="timeline"] li[data-type="error"]');
      if (!err.includes('grep failed: <no such file> (0)')) fail(`error not shown: ${JSON.stringify(err)}`);
      const events = await page.textContent('[data-card="eventCount"] .value');
      if (events.trim() !== String(detail.session.eventCount)) fail(`events counter ${events}, API ${detail.session.eventCount}`);
      const status = await page.textContent('[data-testid="session-status"]');
      if (status !== detail.session.status) fail(`status ${status}, API ${detail.session.status}`);
      await shot(page, 'session');
      const start = Date.now();
      await postEvents([{ sessionId: id, eventType: 'end', agentType: 'codex', mode: 'review', timestamp: Date.now(),
                          metadata: { status: 'cancelled', reason: `live-end-${runTag}` } }]);
      await until(async () => (await page.textContent('[data-testid="timeline"]')).includes(`live-end-${runTag}`), 2000,
                  'an event posted to the open session did not appear in its timeline within 2 s');
      log(`    timeline grew ${Date.now() - start} ms after the POST started`);
    });

    await step('agents, insights and health pages render the API data', async () => {
      await goto(page, '#/agents');
      const agents = (await api('/api/agents')).agents;
      const names = [...new Set(agents.map((a) => a.agentType))].sort();
      const rows = await page.$$eval('[data-testid="by-agent"] tbody tr[data-key]', (r) => r.map((x) => x.dataset.key).sort());
      if (JSON.stringify(rows) !== JSON.stringify(names)) fail(`by-agent rows ${rows} != API agents ${names}`);
      await shot(page, 'agents');
      await goto(page, '#/insights');
      await page.waitForSelector('[data-testid="alerts-active"]');
      await shot(page, 'insights');
      await goto(page, '#/health');
      const h = await fetch(`${server.api}/api/health`).then((r) => r.json());
      const shown = await page.textContent('[data-testid="health-status"]');
      if (shown !== h.status) fail(`health shows ${shown}, API ${h.status}`);
      await shot(page, 'health');
    });

    await step('dark mode follows the system, the toggle overrides it and is kept', async () => {
      await page.evaluate(() => localStorage.removeItem('vibekit.theme'));
      await page.emulateMedia({ colorScheme: 'dark' });
      await goto(page, '#/');
      const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
      const bg = () => page.evaluate(() => {
        const m = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return (m[0] + m[1] + m[2]) / 3;
      });
      if ((await theme()) !== 'dark') fail(`prefers dark, theme is ${await theme()}`);
      if ((await bg()) > 60) fail(`dark theme background is bright (${await bg()})`);
      await shot(page, 'overview-dark');
      await page.click('#theme-toggle');
      if ((await theme()) !== 'light' || (await bg()) < 200) fail('the toggle did not switch to light');
      await page.reload();
      await page.waitForSelector('main[data-loaded]');
      if ((await theme()) !== 'light') fail('the chosen theme was not kept across a reload');
      await page.evaluate(() => localStorage.removeItem('vibekit.theme'));
      await page.emulateMedia({ colorScheme: 'light' });
    });

    await step('the page reconnects by itself after the server restarts', async () => {
      await goto(page, '#/');
      await until(() => page.evaluate(() => window.vibekitLive.state === 'live'), 5000, 'not live before the restart');
      await stopServer(server);
      await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'offline', 5000,
                  'the indicator did not show the lost connection');
      server = await startServer(db, dist);
      await until(async () => (await page.getAttribute('#conn', 'data-state')) === 'live', 15000,
                  'the page did not reconnect within 15 s of the restart');
      const id = `${runTag}-after-restart`;
      const start = Date.now();
      await postEvents([{ sessionId: id, eventType: 'start', agentType: 'claude', prompt: 'after restart', timestamp: Date.now() }]);
      await page.waitForSelector(`[data-testid="event-stream"] li[data-session-id="${id}"]`, { timeout: 2000 })
        .catch(() => fail('after reconnecting, a posted event did not appear within 2 s'));
      log(`    after the restart: visible ${Date.now() - start} ms after the POST started`);
    });

    await step('unknown sessions and routes get a clear message', async () => {
      await page.goto(`${server.dash}#/sessions/no-such-session-${runTag}`);
      await until(async () => (await page.textContent('main')).includes(`No session with id no-such-session-${runTag}`), 5000,
                  async () => `unknown session page shows: ${await page.textContent('main')}`);
      await page.goto(`${server.dash}#/no/such/page`);
      await until(async () => (await page.textContent('main')).includes('Page not found'), 3000, 'no "Page not found" for an unknown route');
    });
    // Expected: the 404 of the unknown session, and the refused WebSocket connections while the
    // server restarted. Any other page error fails the test.
    pageErrors.splice(0, pageErrors.length, ...pageErrors.filter(
      (m) => !m.includes('404') && !/WebSocket connection to .* failed/.test(m)));
    if (pageErrors.length) fail(`errors in the page: ${pageErrors.join(' | ')}`);

    await step('with --token: #token= is taken from the URL and sent on every request and on /ws', async () => {
      await stopServer(server);
      const secret = `tok-${runTag}`;
      server = await startServer(db, dist, ['--token', secret]);
      // A new tab: sessionStorage (where the token is kept) starts empty.
      const p2 = await browser.newPage();
      try {
        await p2.goto(`${server.dash}#/sessions`);
        await until(async () => /token/i.test((await p2.textContent('main')) ?? ''), 5000,
                    async () => `without a token the page shows: ${await p2.textContent('main')}`);
        await p2.goto(`${server.dash}#/sessions?status=failed&token=${encodeURIComponent(secret)}`);
        await p2.waitForSelector('main[data-loaded]', { timeout: 10000 });
        if (p2.url().includes(secret)) fail(`the token stayed in the address bar: ${p2.url()}`);
        if (!p2.url().includes('status=failed')) fail(`the route lost its filters: ${p2.url()}`);
        apiToken = secret;
        await expectRows(p2, { status: 'failed' }, 'with a token');
        await until(() => p2.evaluate(() => window.vibekitLive.state === 'live'), 5000,
                    'the WebSocket did not connect with ?token=');
      } finally {
        await p2.close();
      }
    });
  } finally {
    await browser.close();
  }
}

try {
  await main();
  await stopServer(server);
  log(`PASS: browser tests; screenshots in ${shots}`);
} catch (err) {
  console.error(`FAIL ${err.message}`);
  if (server) console.error(`server stderr (tail):\n${server.stderr().slice(-2000)}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}
