// obsvty web UI: two traces compared, as Jaeger's trace diff: their spans grouped by service and
// operation, what one has that the other lacks, and the durations side by side. #/compare/A/B.
import { $, HEX_ID, JAEGER, clear, el, fmtDuration, fmtTime, getJSON, isErrorStatus, normaliseSpan, otlpSpans, report, serviceColour, traceHref } from './common.js';

let compareRequest = 0;

function groups(spans) {
  // "service\0operation" -> {service, name, count, total, max, errors}
  const out = new Map();
  for (const s of spans) {
    const key = `${s.service}\u0000${s.name}`;
    if (!out.has(key)) out.set(key, { service: s.service, name: s.name, count: 0, total: 0, max: 0, errors: 0 });
    const g = out.get(key);
    const duration = Number(s.end - s.start);
    g.count += 1;
    g.total += duration;
    g.max = Math.max(g.max, duration);
    if (isErrorStatus(s.statusCode)) g.errors += 1;
  }
  return out;
}
function extent(spans) {
  let start = null;
  let end = null;
  for (const s of spans) {
    if (start === null || s.start < start) start = s.start;
    if (end === null || s.end > end) end = s.end;
  }
  return { start, duration: Number(end - start) };
}
function rootOf(spans) {
  const ids = new Set(spans.map((s) => s.id));
  return spans.find((s) => !s.parent || !ids.has(s.parent)) || spans[0];
}
function traceHead(label, id, spans) {
  const root = rootOf(spans);
  const { start, duration } = extent(spans);
  const errors = spans.filter((s) => isErrorStatus(s.statusCode)).length;
  return el('div', { class: `cmp-trace cmp-${label.toLowerCase()}` },
    el('span', { class: 'cmp-tag' }, label),
    el('a', { href: traceHref(id), class: 'name' }, `${root.service}: ${root.name}`),
    el('div', { class: 'id' }, id),
    el('div', { class: 'summary' }, `${spans.length} spans · ${errors} errors · ${fmtDuration(duration)} · started ${fmtTime(start)}`));
}
function durationCell(g, longest, side) {
  if (!g) return el('td', { class: 'cmp-none' }, '—');
  const bar = el('div', { class: `cmp-bar cmp-bar-${side}` });
  bar.style.width = `${Math.max((g.total / longest) * 100, 0.5)}%`;
  const text = g.count > 1 ? `${fmtDuration(g.total)} (${g.count} × ${fmtDuration(Math.round(g.total / g.count))})` : fmtDuration(g.total);
  return el('td', { class: 'cmp-duration' }, el('div', { class: 'cmp-bar-track' }, bar), el('span', null, text));
}
function renderDiff(a, b) {
  const ga = groups(a.spans);
  const gb = groups(b.spans);
  const keys = [...new Set([...ga.keys(), ...gb.keys()])].sort();
  const longest = Math.max(1, ...[...ga.values(), ...gb.values()].map((g) => g.total));
  const tbody = clear($('cmp-table').tBodies[0]);
  const counts = { 'only-a': 0, 'only-b': 0, changed: 0, same: 0 };
  let lastService = null;
  for (const key of keys) {
    const x = ga.get(key);
    const y = gb.get(key);
    const g = x || y;
    const state = !y ? 'only-a' : !x ? 'only-b' : x.count !== y.count ? 'changed' : 'same';
    counts[state] += 1;
    if (g.service !== lastService) {
      const swatch = el('span', { class: 'svc' });
      swatch.style.backgroundColor = serviceColour(g.service);
      tbody.append(el('tr', { class: 'cmp-service' }, el('td', { colspan: 6 }, swatch, g.service)));
      lastService = g.service;
    }
    const label = { 'only-a': 'only in A', 'only-b': 'only in B', changed: 'count differs', same: '' }[state];
    const delta = x && y ? (y.total - x.total) : null;
    const row = el('tr', { class: `cmp-row ${state}` },
      el('td', { class: 'cmp-op' }, el('span', { class: 'span-name' }, g.name), label ? el('span', { class: `cmp-state ${state}` }, label) : null),
      el('td', { class: 'num' }, x ? `${x.count}${x.errors ? ` (${x.errors} err)` : ''}` : '0'),
      el('td', { class: 'num' }, y ? `${y.count}${y.errors ? ` (${y.errors} err)` : ''}` : '0'),
      durationCell(x, longest, 'a'),
      durationCell(y, longest, 'b'),
      el('td', { class: delta === null ? 'num' : delta > 0 ? 'num slower' : delta < 0 ? 'num faster' : 'num' },
        delta === null ? '' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${fmtDuration(Math.abs(delta))}`));
    row.dataset.service = g.service;
    row.dataset.operation = g.name;
    row.dataset.state = state;
    tbody.append(row);
  }
  const parts = [];
  if (counts['only-a']) parts.push(`${counts['only-a']} operation${counts['only-a'] === 1 ? '' : 's'} only in A`);
  if (counts['only-b']) parts.push(`${counts['only-b']} only in B`);
  if (counts.changed) parts.push(`${counts.changed} with other span counts`);
  parts.push(`${counts.same} alike`);
  $('cmp-summary').textContent = `${keys.length} service/operation pairs: ${parts.join(', ')}.`;
  applyOnlyDifferences();
}
function applyOnlyDifferences() {
  const only = $('cmp-diff-only').checked;
  for (const row of $('cmp-table').querySelectorAll('tr.cmp-row')) row.hidden = only && row.dataset.state === 'same';
  for (const header of $('cmp-table').querySelectorAll('tr.cmp-service')) {
    let next = header.nextElementSibling;
    let any = false;
    while (next && next.classList.contains('cmp-row')) { if (!next.hidden) any = true; next = next.nextElementSibling; }
    header.hidden = !any;
  }
}
async function loadTrace(id) {
  const spans = otlpSpans(await getJSON(`traces/${id}`, null, JAEGER)).map(normaliseSpan);
  if (!spans.length) throw new Error(`trace ${id} not found`);
  return { id, spans };
}
export async function showCompare(arg) {
  $('view-compare').hidden = false;
  const [a = '', b = ''] = String(arg || '').split('/').map((s) => decodeURIComponent(s).trim().toLowerCase());
  $('cmp-a').value = a;
  $('cmp-b').value = b;
  clear($('cmp-heads'));
  clear($('cmp-table').tBodies[0]);
  const summary = $('cmp-summary');
  summary.classList.remove('error');
  if (!a || !b) { summary.textContent = 'Pick two traces: tick two in the search results, or enter their ids.'; return; }
  const request = ++compareRequest;
  try {
    for (const id of [a, b]) if (!HEX_ID.test(id)) throw new Error(`"${id}" is not a trace id`);
    summary.textContent = 'Loading…';
    const [ta, tb] = await Promise.all([loadTrace(a), loadTrace(b)]);
    if (request !== compareRequest) return;
    $('cmp-heads').append(traceHead('A', a, ta.spans), traceHead('B', b, tb.spans));
    renderDiff(ta, tb);
  } catch (err) {
    if (request === compareRequest) report(err, summary);
  }
}
export function compareHref(a, b) { return `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`; }

$('cmp-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = compareHref($('cmp-a').value.trim(), $('cmp-b').value.trim());
});
$('cmp-swap').addEventListener('click', () => {
  location.hash = compareHref($('cmp-b').value.trim(), $('cmp-a').value.trim());
});
$('cmp-diff-only').addEventListener('change', applyOnlyDifferences);
