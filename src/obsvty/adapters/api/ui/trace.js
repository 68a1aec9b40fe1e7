// obsvty web UI: one trace, its waterfall and span details.
import { $, HEX_ID, JAEGER, big, clear, el, fmtDuration, fmtTime, fmtValue, getJSON, isErrorStatus, kindName, kvTable, normaliseSpan, otlpSpans, report, serviceColour, setTraceColours, traceHref, traceLink } from './common.js';

// ------------------------------------------------------------------ traces: one trace
// The waterfall: one row per span, depth first. A span with children collapses and expands its
// subtree; "find" marks the spans whose name, service, id or attributes hold a text (and opens
// the subtrees hiding them); the critical path (what the trace's end waited on, as Jaeger finds
// it) is drawn in dark on the bars; span events are markers on their bars; a trace of
// MINIMAP_MIN_SPANS spans or more gets a minimap to scroll by.
const MINIMAP_MIN_SPANS = 1000;
const MINIMAP_HEIGHT = 72;

function orderSpans(spans) {
  // Depth-first rows: children under their parent by start time; spans whose parent was not
  // received (orphans) are shown as roots, marked. Each span gets its children (`kids`).
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
    span.kids = kids.filter((k) => !seen.has(k.id));
    for (let i = kids.length - 1; i >= 0; i -= 1) stack.push([kids[i], depth + 1]);
  }
  for (const s of spans) if (!seen.has(s.id)) { s.kids = []; rows.push([s, 0]); } // cycles: still shown
  return rows;
}
function subtreeEnds(rows) {
  // for each row, the index after its last descendant (rows are depth first)
  const ends = new Array(rows.length).fill(rows.length);
  const open = [];
  rows.forEach(([, depth], i) => {
    while (open.length && rows[open[open.length - 1]][1] >= depth) ends[open.pop()] = i;
    open.push(i);
  });
  return ends;
}
export function criticalPath(roots) {
  // span id -> [[from, to], ...] (BigInt ns): walking back from a span's end, the child that
  // finished last before that point is what the span waited on; the span's own time between
  // children is its part. Every root is walked (a trace with orphans has several).
  const segments = new Map();
  const add = (span, from, to) => {
    if (to <= from) return;
    if (!segments.has(span.id)) segments.set(span.id, []);
    segments.get(span.id).push([from, to]);
  };
  const seen = new Set();
  const walk = (span, upTo) => {
    if (seen.has(span.id)) return;
    seen.add(span.id);
    let cursor = upTo < span.end ? upTo : span.end;
    const kids = span.kids.slice().sort((a, b) => (a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
    for (const kid of kids) {
      if (cursor <= span.start) break;
      if (kid.start >= cursor) continue; // ran in parallel with what came later
      const kidEnd = kid.end < cursor ? kid.end : cursor;
      add(span, kidEnd, cursor);
      walk(kid, kidEnd);
      cursor = kid.start > span.start ? kid.start : span.start;
    }
    add(span, span.start, cursor);
  };
  for (const root of roots) walk(root, root.end);
  return segments;
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

  const critical = criticalPath(rows.filter(([, depth]) => depth === 0).map(([s]) => s));
  const pct = (t) => (Number(t - start) / total) * 100;
  const fragment = document.createDocumentFragment();
  rows.forEach(([span, depth], index) => {
    const error = isErrorStatus(span.statusCode);
    const colour = serviceColour(span.service);
    const swatch = el('span', { class: 'svc' });
    swatch.style.backgroundColor = colour;
    const toggle = span.kids.length
      ? el('button', { type: 'button', class: 'wf-toggle', 'aria-expanded': 'true', title: `collapse (${span.kids.length} children)` }, '▾')
      : el('span', { class: 'wf-toggle-space' });
    const label = el('div', { class: 'wf-label', title: `${span.service}: ${span.name}` },
      toggle,
      swatch,
      el('span', { class: 'svc-name' }, span.service),
      el('span', { class: 'span-name' }, span.name),
      error ? el('span', { class: 'badge err' }, 'error') : null,
      span.orphan ? el('span', { class: 'badge orphan', title: 'parent span not received' }, 'orphan') : null);
    label.style.paddingLeft = `${4 + Math.min(depth, 30) * 14}px`;
    const duration = Number(span.end - span.start);
    const bar = el('div', { class: 'wf-bar' });
    const left = pct(span.start);
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
    const timeline = el('div', { class: 'wf-timeline' }, bar);
    for (const [from, to] of critical.get(span.id) || []) {
      const part = el('div', { class: 'wf-crit' });
      part.style.left = `${pct(from)}%`;
      part.style.width = `${(Number(to - from) / total) * 100}%`;
      timeline.append(part);
    }
    for (const ev of span.events) {
      const at = big(ev.time_unix_nano ?? ev.timeUnixNano);
      const marker = el('div', {
        class: ev.name === 'exception' ? 'wf-event exception' : 'wf-event',
        title: `${ev.name || '(unnamed)'} +${fmtDuration(Number(at - span.start))}`,
      });
      marker.style.left = `${pct(at)}%`;
      timeline.append(marker);
    }
    timeline.append(dur);
    const classes = ['wf-row'];
    if (error) classes.push('error');
    if (critical.has(span.id)) classes.push('critical');
    const row = el('div', { class: classes.join(' '), role: 'row' }, label, timeline);
    row.dataset.index = String(index);
    row.dataset.spanId = span.id;
    row.dataset.depth = String(depth);
    fragment.append(row);
  });
  clear($('wf-rows')).append(fragment);
  currentTrace = { id: traceId, rows, start, total, ends: subtreeEnds(rows), collapsed: new Set(), matches: [], haystacks: null };
  $('wf-find').value = '';
  $('wf-find-count').textContent = '';
  $('waterfall').classList.remove('finding');
  $('wf-minimap').hidden = spans.length < MINIMAP_MIN_SPANS;
  drawMinimap();
  clear($('span-panel')).append(el('p', { class: 'hint' }, 'Select a span to see its details.'));
}

// collapse and expand
function applyCollapse() {
  const { rows, ends, collapsed } = currentTrace;
  const elements = $('wf-rows').children;
  let hideUntil = 0;
  for (let i = 0; i < rows.length; i += 1) {
    const hidden = i < hideUntil;
    const row = elements[i];
    if (row.hidden !== hidden) row.hidden = hidden;
    const toggle = row.querySelector('.wf-toggle');
    if (toggle) {
      const open = !collapsed.has(i);
      toggle.textContent = open ? '▾' : '▸';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.title = `${open ? 'collapse' : 'expand'} (${rows[i][0].kids.length} children)`;
    }
    if (!hidden && collapsed.has(i)) hideUntil = ends[i];
  }
  drawMinimap();
}
function toggleRow(index) {
  const { collapsed } = currentTrace;
  if (collapsed.has(index)) collapsed.delete(index); else collapsed.add(index);
  applyCollapse();
}
function collapseAll(collapse) {
  if (!currentTrace) return;
  currentTrace.collapsed = new Set(collapse ? currentTrace.rows.flatMap(([s], i) => (s.kids.length && i > 0 ? [i] : [])) : []);
  applyCollapse();
}

// find within the trace
function haystack(span) {
  const parts = [span.name, span.service, span.id];
  for (const [key, value] of Object.entries(span.attributes)) parts.push(key, fmtValue(value));
  for (const [key, value] of Object.entries(span.resource)) parts.push(key, fmtValue(value));
  for (const ev of span.events) parts.push(ev.name || '');
  return parts.join('\n').toLowerCase();
}
function find() {
  if (!currentTrace) return;
  const term = $('wf-find').value.trim().toLowerCase();
  const { rows, ends, collapsed } = currentTrace;
  if (!currentTrace.haystacks) currentTrace.haystacks = rows.map(([span]) => haystack(span));
  const matches = term ? rows.flatMap((_, i) => (currentTrace.haystacks[i].includes(term) ? [i] : [])) : [];
  const elements = $('wf-rows').children;
  const matched = new Set(matches);
  for (let i = 0; i < rows.length; i += 1) elements[i].classList.toggle('match', matched.has(i));
  for (const i of [...collapsed]) { // open every subtree that hides a match
    if (matches.some((m) => m > i && m < ends[i])) collapsed.delete(i);
  }
  currentTrace.matches = matches;
  currentTrace.nextMatch = 0;
  $('waterfall').classList.toggle('finding', Boolean(term));
  $('wf-find-count').textContent = term ? `${matches.length} match${matches.length === 1 ? '' : 'es'}` : '';
  applyCollapse();
}
function nextMatch() {
  if (!currentTrace || !currentTrace.matches.length) return;
  const index = currentTrace.matches[currentTrace.nextMatch % currentTrace.matches.length];
  currentTrace.nextMatch += 1;
  selectSpan(index);
  $('wf-rows').children[index].scrollIntoView({ block: 'center' });
}

// the minimap: every shown row as a thin bar, the visible part of the list framed
function drawMinimap() {
  const box = $('wf-minimap');
  if (!currentTrace || box.hidden) return;
  const canvas = $('wf-minimap-canvas');
  const width = Math.max(100, box.clientWidth);
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(MINIMAP_HEIGHT * ratio);
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, MINIMAP_HEIGHT);
  const elements = $('wf-rows').children;
  const shown = currentTrace.rows.filter((_, i) => !elements[i].hidden);
  const h = MINIMAP_HEIGHT / Math.max(shown.length, 1);
  const { start, total } = currentTrace;
  shown.forEach(([span], i) => {
    ctx.fillStyle = isErrorStatus(span.statusCode) ? '#cf222e' : serviceColour(span.service);
    const x = (Number(span.start - start) / total) * width;
    const w = Math.max((Number(span.end - span.start) / total) * width, 1);
    ctx.fillRect(x, i * h, w, Math.max(h, 0.5));
  });
  frameMinimap();
}
function frameMinimap() {
  const box = $('wf-minimap');
  if (box.hidden) return;
  const list = $('wf-rows');
  const frame = $('wf-minimap-view');
  const height = list.scrollHeight || 1;
  frame.style.top = `${(list.scrollTop / height) * 100}%`;
  frame.style.height = `${Math.min(list.clientHeight / height, 1) * 100}%`;
}
function scrollFromMinimap(event) {
  const box = $('wf-minimap').getBoundingClientRect();
  const list = $('wf-rows');
  const fraction = Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1);
  list.scrollTop = fraction * list.scrollHeight - list.clientHeight / 2;
  frameMinimap();
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
  if (!row) return;
  if (event.target.closest('.wf-toggle')) toggleRow(Number(row.dataset.index));
  else selectSpan(Number(row.dataset.index));
});
$('wf-rows').addEventListener('scroll', frameMinimap, { passive: true });
$('wf-find').addEventListener('input', find);
$('wf-find').addEventListener('keydown', (event) => {
  if (event.key === 'Enter') { event.preventDefault(); nextMatch(); }
});
$('wf-expand-all').addEventListener('click', () => collapseAll(false));
$('wf-collapse-all').addEventListener('click', () => collapseAll(true));
$('wf-critical').addEventListener('change', () => {
  $('waterfall').classList.toggle('no-critical', !$('wf-critical').checked);
});
let dragging = false;
$('wf-minimap').addEventListener('mousedown', (event) => { dragging = true; scrollFromMinimap(event); });
window.addEventListener('mousemove', (event) => { if (dragging) scrollFromMinimap(event); });
window.addEventListener('mouseup', () => { dragging = false; });
window.addEventListener('resize', () => { if (currentTrace) drawMinimap(); });

