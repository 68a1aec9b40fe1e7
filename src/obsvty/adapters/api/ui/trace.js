// obsvty web UI: one trace, its waterfall and span details.
import { $, HEX_ID, JAEGER, big, clear, el, fmtDuration, fmtTime, getJSON, isErrorStatus, kindName, kvTable, normaliseSpan, otlpSpans, report, serviceColour, setTraceColours, traceHref, traceLink } from './common.js';

// ------------------------------------------------------------------ traces: one trace
function orderSpans(spans) {
  // Depth-first rows: children under their parent by start time; spans whose parent was not
  // received (orphans) are shown as roots, marked.
  const byId = new Map(spans.map((s) => [s.id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    s.orphan = Boolean(s.parent) && !byId.has(s.parent);
    if (!s.parent || s.orphan || s.parent === s.id) roots.push(s);
    else {
      if (!children.has(s.parent)) children.set(s.parent, []);
      children.get(s.parent).push(s);
    }
  }
  const byStart = (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1);
  roots.sort(byStart);
  const rows = [];
  const seen = new Set();
  const stack = roots.slice().reverse().map((s) => [s, 0]);
  while (stack.length) {
    const [span, depth] = stack.pop();
    if (seen.has(span.id)) continue; // a cycle in bad data must not hang the page
    seen.add(span.id);
    rows.push([span, depth]);
    const kids = (children.get(span.id) || []).sort(byStart);
    for (let i = kids.length - 1; i >= 0; i -= 1) stack.push([kids[i], depth + 1]);
  }
  for (const s of spans) if (!seen.has(s.id)) rows.push([s, 0]); // cycles: still shown
  return rows;
}
let currentTrace = null;
function renderTrace(traceId, rawSpans) {
  const spans = rawSpans.map(normaliseSpan);
  const rows = orderSpans(spans);
  let start = null;
  let end = null;
  for (const s of spans) {
    if (start === null || s.start < start) start = s.start;
    if (end === null || s.end > end) end = s.end;
  }
  const total = Number(end - start) || 1;
  const services = [...new Set(spans.map((s) => s.service))].sort();
  setTraceColours(services);
  const errors = spans.filter((s) => isErrorStatus(s.statusCode)).length;
  const root = rows.length ? rows[0][0] : null;
  $('tr-title').textContent = root ? `${root.service}: ${root.name}` : traceId;
  $('tr-meta').textContent = `Trace ${traceId} · ${spans.length} spans · ${services.length} services · ` +
    `${errors} errors · ${fmtDuration(total)} · started ${fmtTime(start)}`;

  const ticks = clear($('wf-ticks'));
  for (let i = 0; i < 5; i += 1) {
    const tick = el('div', { class: 'wf-tick' }, fmtDuration(Math.round((total * i) / 4)));
    tick.style.left = `${i * 25}%`;
    if (i === 4) { tick.style.left = 'auto'; tick.style.right = '0'; }
    ticks.append(tick);
  }

  const fragment = document.createDocumentFragment();
  rows.forEach(([span, depth], index) => {
    const error = isErrorStatus(span.statusCode);
    const colour = serviceColour(span.service);
    const swatch = el('span', { class: 'svc' });
    swatch.style.backgroundColor = colour;
    const label = el('div', { class: 'wf-label', title: `${span.service}: ${span.name}` },
      swatch,
      el('span', { class: 'svc-name' }, span.service),
      el('span', { class: 'span-name' }, span.name),
      error ? el('span', { class: 'badge err' }, 'error') : null,
      span.orphan ? el('span', { class: 'badge orphan', title: 'parent span not received' }, 'orphan') : null);
    label.style.paddingLeft = `${8 + Math.min(depth, 30) * 14}px`;
    const offset = Number(span.start - start);
    const duration = Number(span.end - span.start);
    const bar = el('div', { class: 'wf-bar' });
    const left = (offset / total) * 100;
    const width = Math.max((duration / total) * 100, 0);
    bar.style.left = `${left}%`;
    bar.style.width = `${width}%`;
    bar.style.backgroundColor = colour;
    const dur = el('span', { class: 'wf-dur' }, fmtDuration(duration));
    if (left + width > 85) {
      dur.classList.add('inside');
      dur.style.right = `${Math.max(100 - left - width, 0)}%`;
    } else {
      dur.style.left = `${left + width}%`;
    }
    const row = el('div', { class: error ? 'wf-row error' : 'wf-row', role: 'row' },
      label, el('div', { class: 'wf-timeline' }, bar, dur));
    row.dataset.index = String(index);
    row.dataset.spanId = span.id;
    row.dataset.depth = String(depth);
    fragment.append(row);
  });
  clear($('wf-rows')).append(fragment);
  currentTrace = { id: traceId, rows, start };
  clear($('span-panel')).append(el('p', { class: 'hint' }, 'Select a span to see its details.'));
}
function selectSpan(index) {
  if (!currentTrace) return;
  const entry = currentTrace.rows[index];
  if (!entry) return;
  const span = entry[0];
  for (const row of document.querySelectorAll('.wf-row.selected')) row.classList.remove('selected');
  const row = document.querySelector(`.wf-row[data-index="${index}"]`);
  if (row) row.classList.add('selected');
  const error = isErrorStatus(span.statusCode);
  const statusText = error ? 'ERROR' : (span.statusCode === 1 || span.statusCode === 'OK' ? 'OK' : 'UNSET');
  const panel = clear($('span-panel'));
  panel.append(
    el('h2', null, span.name),
    el('table', { class: 'kv span-fields' },
      el('tr', null, el('td', null, 'service'), el('td', null, span.service)),
      el('tr', null, el('td', null, 'span id'), el('td', null, span.id)),
      el('tr', null, el('td', null, 'parent id'), el('td', null, span.parent ? `${span.parent}${span.orphan ? ' (not received)' : ''}` : '—')),
      el('tr', null, el('td', null, 'kind'), el('td', null, kindName(span.kind))),
      el('tr', null, el('td', null, 'status'), el('td', { class: error ? 'status-error' : 'status-ok' },
        span.statusMessage ? `${statusText}: ${span.statusMessage}` : statusText)),
      el('tr', null, el('td', null, 'start'), el('td', null, `${fmtTime(span.start)} (+${fmtDuration(Number(span.start - currentTrace.start))})`)),
      el('tr', null, el('td', null, 'duration'), el('td', null, fmtDuration(Number(span.end - span.start)))),
      el('tr', null, el('td', null, 'scope'), el('td', null, [span.scope.name, span.scope.version].filter(Boolean).join(' ') || '—')),
      span.traceState ? el('tr', null, el('td', null, 'trace state'), el('td', null, span.traceState)) : null),
    el('h3', null, `Attributes (${Object.keys(span.attributes).length})`),
    kvTable(span.attributes),
    el('h3', null, `Events (${span.events.length})`));
  if (!span.events.length) panel.append(el('p', { class: 'hint' }, 'none'));
  for (const ev of span.events) {
    const at = big(ev.time_unix_nano ?? ev.timeUnixNano);
    panel.append(el('div', { class: ev.name === 'exception' ? 'event exception' : 'event' },
      el('div', null, el('strong', null, ev.name || '(unnamed)'), ` +${fmtDuration(Number(at - span.start))}`),
      kvTable(ev.attributes)));
  }
  panel.append(el('h3', null, `Links (${span.links.length})`));
  if (!span.links.length) panel.append(el('p', { class: 'hint' }, 'none'));
  for (const link of span.links) {
    const tid = link.trace_id || link.traceId || '';
    panel.append(el('div', { class: 'event link' },
      el('div', null, traceLink(tid, `trace ${tid}`)),
      el('div', { class: 'id' }, `span ${link.span_id || link.spanId || ''}`),
      kvTable(link.attributes)));
  }
  panel.append(el('h3', null, 'Resource'), kvTable(span.resource));
}
export async function showTrace(traceId) {
  $('view-trace').hidden = false;
  $('tr-title').textContent = traceId;
  $('tr-meta').textContent = 'Loading…';
  $('tr-logs').href = traceHref(traceId) ? `#/logs?trace_id=${traceId}` : '#/logs';
  clear($('wf-rows'));
  clear($('span-panel'));
  try {
    if (!HEX_ID.test(traceId)) throw new Error('not a trace id');
    const spans = otlpSpans(await getJSON(`traces/${traceId}`, null, JAEGER));
    if (!spans.length) throw new Error('trace not found');
    renderTrace(traceId, spans);
  } catch (err) {
    report(err, $('tr-meta'));
  }
}
$('wf-rows').addEventListener('click', (event) => {
  const row = event.target.closest('.wf-row');
  if (row) selectSpan(Number(row.dataset.index));
});

