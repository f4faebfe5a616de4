// Insights: anomalies of the recent per-minute metrics, a forecast of the chosen metric with its
// 95 % interval, and alerts (active, history, thresholds). Alerts update live.
import { getJson } from '../api.js';
import { h, replace, errorBox } from '../dom.js';
import { fmtNum, fmtTime } from '../format.js';
import { TimeChart, chartBox } from '../chart.js';

const METRICS = ['throughput', 'error_rate', 'response_time', 'active_sessions'];

function cellValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmtNum(v, 2);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function alertRow(a) {
  return h('tr', { dataset: { alertId: a.id } },
    h('td', null, fmtTime(a.firedAt)),
    h('td', null, h('span', { class: `badge ${a.severity}` }, a.severity ?? '')),
    h('td', null, a.metric),
    h('td', { class: 'num' }, cellValue(a.value)),
    h('td', { class: 'num' }, `${a.direction === 'below' ? '<' : '>'} ${cellValue(a.threshold)}`),
    h('td', null, a.resolvedAt ? fmtTime(a.resolvedAt) : 'active'),
    h('td', null, a.message ?? ''));
}

function alertTable(testid, alerts, empty) {
  return h('table', { 'data-testid': testid },
    h('thead', null, h('tr', null, ['Fired', 'Severity', 'Metric'].map((c) => h('th', null, c)),
      h('th', { class: 'num' }, 'Value'), h('th', { class: 'num' }, 'Threshold'),
      h('th', null, 'Resolved'), h('th', null, 'Message'))),
    h('tbody', null, alerts.length ? alerts.map(alertRow)
      : h('tr', null, h('td', { colspan: 7, class: 'empty' }, empty))));
}

function genericTable(rows) {
  if (!rows.length) return h('div', { class: 'small' }, 'None configured.');
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return h('table', null, h('thead', null, h('tr', null, cols.map((c) => h('th', null, c)))),
    h('tbody', null, rows.map((r) => h('tr', null, cols.map((c) => h('td', null, cellValue(r[c])))))));
}

export function mount(root, { live }) {
  document.title = 'Insights · VibeKit';
  const anomaliesBox = h('section', { class: 'panel table-wrap' });
  const metricSel = h('select', { 'aria-label': 'Metric to forecast' },
    METRICS.map((m) => h('option', { value: m }, m)));
  const predMsg = h('div', { class: 'small' });
  const predChartBox = chartBox();
  const alertsBox = h('section', { class: 'panel table-wrap' });
  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Insights'),
      h('span', { class: 'sub' }, 'anomalies, forecasts and alerts')),
    anomaliesBox,
    h('section', { class: 'panel' },
      h('div', { class: 'page-head' }, h('h2', null, 'Forecast, next 30 minutes'), metricSel),
      predMsg, predChartBox),
    alertsBox);

  let alive = true;
  const chart = new TimeChart(predChartBox, {
    title: '',
    series: [{ label: 'forecast', color: '--accent' },
             { label: 'lower 95%', color: '--muted', dash: [4, 4] },
             { label: 'upper 95%', color: '--muted', dash: [4, 4] }],
  });

  async function loadAnomalies() {
    try {
      const r = await getJson('/api/anomalies', { lookback: '24h' });
      if (!alive) return;
      const rows = r.anomalies ?? [];
      replace(anomaliesBox, h('h2', null, `Anomalies, last 24 hours (${rows.length})`),
        rows.length ? h('table', { 'data-testid': 'anomalies' },
          h('thead', null, h('tr', null, ['Peak', 'Severity', 'Metric', 'Kind', 'Observed',
            'Expected', 'Confidence', 'Description'].map((c) => h('th', null, c)))),
          h('tbody', null, rows.map((a) => h('tr', null,
            h('td', null, fmtTime(a.peak ?? a.peakMs)),
            h('td', null, h('span', { class: `badge ${a.severity}` }, a.severity)),
            h('td', null, a.metric), h('td', null, a.kind),
            h('td', { class: 'num' }, cellValue(a.observed)),
            h('td', { class: 'num' }, cellValue(a.expected)),
            h('td', { class: 'num' }, a.confidencePct !== undefined ? `${fmtNum(a.confidencePct, 0)}%` : '—'),
            h('td', null, a.description ?? a.title ?? '')))))
          : h('div', { class: 'empty' }, 'No anomalies in the last 24 hours.'));
    } catch (err) {
      if (alive) replace(anomaliesBox, errorBox(`Could not load anomalies: ${err.message}`));
    }
  }

  async function loadPrediction() {
    try {
      const r = await getJson('/api/predictions', { metric: metricSel.value, minutes: 30 });
      if (!alive) return;
      const p = (r.predictions ?? [])[0];
      if (!p || !p.points || !p.points.length) {
        predMsg.textContent = 'Not enough history for a forecast yet.';
        chart.setData([[], [], [], []]);
        return;
      }
      const mae = p.backtestMae !== null && p.backtestMae !== undefined
        ? ` · backtest MAE ${fmtNum(p.backtestMae, 2)} (naive ${fmtNum(p.naiveMae, 2)})` : '';
      predMsg.textContent = `${p.metric} · method ${p.method}${mae}`;
      chart.setData([p.points.map((x) => x.minute), p.points.map((x) => x.value),
                     p.points.map((x) => x.lower), p.points.map((x) => x.upper)]);
    } catch (err) {
      if (alive) predMsg.textContent = `Could not load the forecast: ${err.message}`;
    }
  }

  async function loadAlerts() {
    try {
      const r = await getJson('/api/alerts');
      if (!alive) return;
      replace(alertsBox,
        h('h2', null, `Active alerts (${(r.active ?? []).length})`),
        alertTable('alerts-active', r.active ?? [], 'No active alerts.'),
        h('h2', { style: 'margin-top:16px' }, 'Alert history'),
        alertTable('alerts-history', (r.history ?? []).slice(0, 100), 'No alerts fired yet.'),
        h('h2', { style: 'margin-top:16px' }, 'Thresholds'),
        genericTable(r.thresholds ?? []));
      root.dataset.loaded = 'true';
    } catch (err) {
      if (alive) replace(alertsBox, errorBox(`Could not load alerts: ${err.message}`));
    }
  }

  metricSel.addEventListener('change', loadPrediction);
  const load = () => Promise.all([loadAnomalies(), loadPrediction(), loadAlerts()]);
  const offs = [
    live.subscribe(['alerts']),
    live.on('alert', loadAlerts),
    live.on('alertResolved', loadAlerts),
    live.onReopen(load),
  ];
  load();
  return () => {
    alive = false;
    for (const off of offs) off();
    chart.destroy();
  };
}
