// obsvty web UI: metric charts.
import { $, API, PALETTE, attrFilter, big, clear, el, fmtDuration, fmtNumber, fmtTime, fmtValue, getJSON, list, niceTicks, num, report, svg, timeRange } from './common.js';

// ------------------------------------------------------------------ metrics
// GET api/v1/metrics lists names and types; GET api/v1/metrics/{name}/series answers one
// series per stream (resource, scope, attributes: two processes are two lines). Shown as:
// gauges by value, sums as a per-second rate (mode=rate; "value" shows the running total),
// histograms as percentile lines (p50/p90/p99 estimated by the API from each step's bucket
// increases), summaries by their quantiles. A sample with value, count and sum all null is a
// break (a restart, a reset, a pause): the line is not joined across it.
const CHART_PERCENTILES = ['p50', 'p90', 'p99'];
const MAX_RAW_SAMPLES = 240; // more samples than this per series: ask for steps instead
const metricInfo = new Map();
let metricRequest = 0;
async function loadMetricNames() {
  const metrics = list(await getJSON('metrics'), 'metrics');
  const select = $('ms-name');
  const keep = select.value;
  metricInfo.clear();
  clear(select).append(el('option', { value: '' }, 'choose a metric'));
  for (const m of metrics) {
    metricInfo.set(m.name, m);
    select.append(el('option', { value: m.name }, `${m.name} (${m.type}${m.unit ? `, ${m.unit}` : ''})`));
  }
  if (keep && metricInfo.has(keep)) select.value = keep;
}
export function metricServices(name) {
  const select = $('ms-service');
  const keep = select.value;
  clear(select).append(el('option', { value: '' }, 'any'));
  const info = metricInfo.get(name);
  for (const s of (info && info.services) || []) select.append(el('option', { value: s }, s));
  select.value = keep;
  if (select.value !== keep) select.value = '';
}
function isHistogram(type) { return type === 'histogram' || type === 'exponential_histogram'; }
function chartMode(type) {
  // what to ask the API for and what to plot, from the metric's type and the "show" choice
  const show = $('ms-show').value;
  if (isHistogram(type)) {
    if (show === 'rate') return { mode: 'rate', plot: 'value', unit: 'obs/s' };
    return { mode: 'value', plot: 'percentiles' };
  }
  if (type === 'summary') return { mode: 'value', plot: 'percentiles' };
  if (type === 'sum') {
    if (show === 'value') return { mode: 'value', plot: 'value' };
    return { mode: 'rate', plot: 'value', unit: '/s' };
  }
  return { mode: 'value', plot: 'value' };
}
function niceStep(ns) {
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  for (const s of steps) if (s * 1e9 >= ns) return `${s}s`;
  return '86400s';
}
function attributesLabel(series) {
  const parts = [];
  if (series.service) parts.push(series.service);
  for (const [k, v] of Object.entries(series.attributes || {})) parts.push(`${k}=${fmtValue(v)}`);
  return parts.join(' · ') || 'all';
}
function seriesLabels(all) {
  // service · attributes; where several series share those (processes of one service), the
  // resource attributes, and the scope, that tell them apart, else when each started (the
  // API's order), else a number
  let labels = distinguish(all, all.map(attributesLabel), 'resource');
  labels = distinguish(all, labels, 'start');
  return distinguish(all, labels, 'number');
}
function distinguish(all, labels, by) {
  // a label several series share gets what differs among them
  const groups = new Map();
  labels.forEach((label, i) => groups.set(label, [...(groups.get(label) || []), i]));
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    if (by === 'number') {
      members.forEach((i, n) => { labels[i] = `${labels[i]} · #${n + 1}`; });
      continue;
    }
    if (by === 'start') {
      for (const i of members) {
        const start = all[i].start_time_unix_nano;
        if (start) labels[i] = `${labels[i]} · started ${fmtTime(big(start))}`;
      }
      continue;
    }
    const resources = members.map((i) => all[i].resource || {});
    const keys = [...new Set(resources.flatMap((r) => Object.keys(r)))].sort();
    const differing = keys.filter((k) => new Set(resources.map((r) => JSON.stringify(r[k]))).size > 1);
    const scopes = members.map((i) => (all[i].scope || {}).name || '');
    members.forEach((i, n) => {
      const extra = differing.map((k) => `${k}=${k in resources[n] ? fmtValue(resources[n][k]) : '—'}`);
      if (new Set(scopes).size > 1) extra.push(`scope=${scopes[n] || '—'}`);
      if (extra.length) labels[i] = `${labels[i]} · ${extra.join(' · ')}`;
    });
  }
  return labels;
}
function chartLines(body, how) {
  // [{label, points: [{t: bigint, v: number|null}]}]: one line per series (per percentile)
  const lines = [];
  const all = list(body, 'series');
  const labels = seriesLabels(all);
  for (const [i, s] of all.entries()) {
    const base = labels[i];
    const samples = s.samples || [];
    if (how.plot === 'percentiles') {
      const keys = new Set();
      for (const p of samples) for (const k of Object.keys(p.percentiles || {})) keys.add(k);
      const wanted = CHART_PERCENTILES.filter((k) => keys.has(k));
      for (const k of wanted.length ? wanted : [...keys].sort()) {
        lines.push({ label: `${k} · ${base}`, points: samples.map((p) => ({ t: big(p.time_unix_nano), v: num((p.percentiles || {})[k]) })) });
      }
    } else {
      lines.push({ label: base, points: samples.map((p) => ({ t: big(p.time_unix_nano), v: num(p.value) })) });
    }
  }
  return lines.filter((l) => l.points.some((p) => p.v !== null));
}
// The chart: the unit names the y axis, the x axis says the date under its first time and
// wherever the day changes; the legend toggles lines (the y axis fits the lines shown).
const hiddenLines = new Set(); // labels of the lines toggled off (kept while the metric stays)
let chartState = null;
function timeLabels(t0, t1, count) {
  // [{t, time, date}]: the date only under the first label and where it changes
  const tSpan = Number(t1 - t0);
  const out = [];
  let lastDate = null;
  for (let i = 0; i <= count; i += 1) {
    if (!tSpan && i !== count / 2) continue;
    const t = t0 + BigInt(Math.round((tSpan * i) / count));
    const full = fmtTime(t); // YYYY-MM-DD HH:MM:SS.mmm
    const date = full.slice(0, 10);
    const time = tSpan > 86400e9 ? full.slice(11, 16) : full.slice(11, tSpan < 10e9 ? 23 : 19);
    out.push({ t, time, date: date !== lastDate ? date : '' });
    lastDate = date;
  }
  return out;
}
function axisTitle(unit) {
  // UCUM's "1" is a plain number; a rate of one is "per second"
  if (!unit || unit === '1') return 'value';
  if (unit === '/s') return 'per second';
  return unit;
}
function drawChart(lines, unit) {
  chartState = { lines, unit };
  return renderChart();
}
function renderChart() {
  const { lines, unit } = chartState;
  const chart = clear($('chart'));
  const legend = clear($('chart-legend'));
  if (!lines.length) { chart.append(el('p', { class: 'hint' }, 'No points in this range.')); return 0; }
  const shown = lines.filter((l) => !hiddenLines.has(l.label));
  const width = Math.max(400, Math.round(chart.clientWidth - 16)); // one layout read: 1 unit = 1 px
  const height = 380;
  const m = { l: 84, r: 24, t: 16, b: 44 };
  let t0 = null; let t1 = null; let v0 = Infinity; let v1 = -Infinity;
  for (const line of lines) for (const p of line.points) { // time: every line, so toggling keeps it
    if (t0 === null || p.t < t0) t0 = p.t;
    if (t1 === null || p.t > t1) t1 = p.t;
  }
  for (const line of shown) for (const p of line.points) {
    if (p.v !== null) { v0 = Math.min(v0, p.v); v1 = Math.max(v1, p.v); }
  }
  if (!Number.isFinite(v0)) { v0 = 0; v1 = 1; }
  if (v0 > 0) v0 = 0;
  if (v1 < 0) v1 = 0;
  if (v0 === v1) v1 = v0 + 1;
  const ticks = niceTicks(v0, v1, 5);
  v0 = Math.min(v0, ticks[0]); v1 = Math.max(v1, ticks[ticks.length - 1]);
  const tSpan = Number(t1 - t0);
  const plotW = width - m.l - m.r;
  const x = (t) => (tSpan ? m.l + (Number(t - t0) / tSpan) * plotW : m.l + plotW / 2);
  const y = (v) => height - m.b - ((v - v0) / (v1 - v0)) * (height - m.t - m.b);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'metric chart' });
  for (const v of ticks) {
    root.append(svg('line', { class: 'grid', x1: m.l, x2: width - m.r, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }));
    root.append(svg('text', { class: 'y-tick', x: m.l - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, fmtNumber(v)));
  }
  const middle = ((m.t + height - m.b) / 2).toFixed(1);
  root.append(svg('text', { class: 'unit y-unit', x: 14, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 14 ${middle})` }, axisTitle(unit)));
  const labels = timeLabels(t0, t1, 4);
  labels.forEach(({ t, time, date }, i) => {
    const anchor = !tSpan ? 'middle' : i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle';
    const text = svg('text', { class: 'x-tick', x: x(t).toFixed(1), y: height - m.b + 16, 'text-anchor': anchor }, time);
    root.append(text);
    if (date) root.append(svg('text', { class: 'x-date', x: x(t).toFixed(1), y: height - m.b + 31, 'text-anchor': anchor }, date));
  });
  root.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
  root.append(svg('line', { class: 'axis', x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b }));
  lines.forEach((line, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const off = hiddenLines.has(line.label);
    const swatch = el('span', { class: 'swatch' });
    swatch.style.backgroundColor = colour;
    const item = el('li', {
      class: off ? 'off' : null, role: 'button', tabindex: 0, 'aria-pressed': String(!off),
      title: off ? 'show this line' : 'hide this line',
    }, swatch, line.label);
    const toggle = () => {
      if (hiddenLines.has(line.label)) hiddenLines.delete(line.label); else hiddenLines.add(line.label);
      renderChart();
    };
    item.addEventListener('click', toggle);
    item.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); toggle(); } });
    legend.append(item);
    if (off) return;
    let d = '';
    let pen = false;
    for (const p of line.points) { // a null value (a break in the series, or no estimate in that step) lifts the pen
      if (p.v === null) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
      pen = true;
    }
    const path = svg('path', { class: 'line', d });
    path.style.stroke = colour;
    root.append(path);
    const group = svg('g', { class: 'points' });
    group.style.fill = colour;
    const many = line.points.length > MAX_RAW_SAMPLES;
    line.points.forEach((p, k) => {
      if (p.v === null) return;
      // every point when few; when many, only those alone between breaks (else unseen)
      const alone = !(k > 0 && line.points[k - 1].v !== null) && !(k + 1 < line.points.length && line.points[k + 1].v !== null);
      if (!many || alone) {
        const dot = svg('circle', { class: 'point', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5 });
        dot.append(svg('title', null, `${line.label}\n${fmtTime(p.t)}\n${fmtNumber(p.v)}${unit ? ` ${unit}` : ''}`));
        group.append(dot);
      }
    });
    root.append(group);
  });
  chart.append(root);
  return lines.length;
}
export function forgetHiddenLines() { hiddenLines.clear(); }
export async function showSeries(event) {
  if (event) event.preventDefault();
  const name = $('ms-name').value;
  const summary = $('ms-summary');
  summary.classList.remove('error');
  if (!name) { summary.textContent = 'Pick a metric.'; clear($('chart')); clear($('chart-legend')); return; }
  const request = ++metricRequest;
  try {
    const info = metricInfo.get(name) || { type: '', unit: '' };
    const how = chartMode(info.type);
    const range = timeRange($('ms-lookback'));
    const params = {
      start: range.start,
      end: range.end,
      service: $('ms-service').value,
      attr: attrFilter($('ms-attr').value),
      mode: how.mode,
      percentiles: how.plot === 'percentiles' && info.type !== 'summary' ? '50,90,99' : null,
    };
    const path = `metrics/${encodeURIComponent(name)}/series`;
    summary.textContent = 'Loading…';
    let body = await getJSON(path, params); // one sample per point first: full detail
    const samples = Math.max(0, ...list(body, 'series').map((s) => (s.samples || []).length));
    if (body.truncated || samples > MAX_RAW_SAMPLES) { // too many: one sample per step
      const times = list(body, 'series').flatMap((s) => (s.samples || []).map((p) => big(p.time_unix_nano)));
      const from = range.start !== null ? big(range.start) : times.reduce((a, b) => (b < a ? b : a));
      const to = range.end !== null ? big(range.end) : BigInt(Date.now()) * 1000000n;
      body = await getJSON(path, { ...params, step: niceStep(Number(to - from) / 150) });
    }
    if (request !== metricRequest) return;
    const unit = how.unit ? (info.unit && info.unit !== '1' ? `${info.unit}${how.unit}` : how.unit) : info.unit;
    const count = drawChart(chartLines(body, how), unit);
    const shownAs = how.plot === 'percentiles' ? 'percentiles' : how.mode === 'rate' ? 'rate per second' : 'value';
    summary.textContent = `${name} (${info.type || 'metric'}): ${count} line${count === 1 ? '' : 's'}, ${shownAs}` +
      `${body.step_ns ? `, step ${fmtDuration(body.step_ns)}` : ''}${body.truncated ? ' (truncated)' : ''}`;
  } catch (err) {
    if (request === metricRequest) report(err, summary);
  }
}
export async function showMetrics() {
  $('view-metrics').hidden = false;
  try {
    await loadMetricNames();
    metricServices($('ms-name').value);
    if ($('ms-name').value) showSeries();
  } catch (err) { report(err); }
}

