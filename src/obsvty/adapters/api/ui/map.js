// obsvty web UI: the service map. GET api/v1/dependencies answers the calls between services
// (a span whose parent span is of another service) with their error counts; drawn here as an SVG
// graph: services in columns by call depth (callers left of what they call), an arrow per
// (caller, called) pair labelled with its calls and errors. Clicking a service searches its traces.
import { $, API, clear, el, getJSON, list, report, serviceColour, svg, timeRange } from './common.js';

const NODE_W = 180;
const NODE_H = 46;
const COLUMN_GAP = 170;
const ROW_GAP = 34;
const MARGIN = 24;
const MAX_NAME = 20; // characters shown in a node; the full name is in its tooltip
let mapRequest = 0;

function shortName(name) {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}
function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

// Columns by the longest chain of calls leading to a service (cycles are cut after as many
// rounds as there are services), rows ordered by where their callers sit (fewer crossings).
export function layout(links) {
  const names = [...new Set(links.flatMap((l) => [l.parent, l.child]))].sort();
  const column = new Map(names.map((n) => [n, 0]));
  for (let round = 0; round < names.length; round += 1) {
    let changed = false;
    for (const l of links) {
      const want = column.get(l.parent) + 1;
      if (want > column.get(l.child) && want < names.length) { column.set(l.child, want); changed = true; }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of names) (columns[column.get(n)] ||= []).push(n);
  const row = new Map();
  columns.forEach((members, c) => {
    if (!members) return;
    const weight = (n) => {
      const callers = links.filter((l) => l.child === n && row.has(l.parent)).map((l) => row.get(l.parent));
      return callers.length ? callers.reduce((a, b) => a + b, 0) / callers.length : Infinity;
    };
    if (c > 0) members.sort((a, b) => weight(a) - weight(b) || (a < b ? -1 : 1));
    members.forEach((n, i) => row.set(n, i));
  });
  const tallest = Math.max(1, ...columns.map((m) => (m ? m.length : 0)));
  const height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const place = new Map();
  columns.forEach((members, c) => {
    if (!members) return;
    const top = (height - (members.length * NODE_H + (members.length - 1) * ROW_GAP)) / 2;
    members.forEach((n, i) => place.set(n, { x: MARGIN + c * (NODE_W + COLUMN_GAP), y: top + i * (NODE_H + ROW_GAP) }));
  });
  const width = MARGIN * 2 + columns.length * NODE_W + (columns.length - 1) * COLUMN_GAP;
  return { names, place, width, height };
}

function edgePath(from, to) {
  // caller's right side to the called's left side; a call back to an earlier column loops below
  const x1 = from.x + NODE_W;
  const y1 = from.y + NODE_H / 2;
  const x2 = to.x;
  const y2 = to.y + NODE_H / 2;
  if (x2 > x1) {
    const bend = (x2 - x1) / 2;
    return { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, lx: (x1 + x2) / 2, ly: (y1 + y2) / 2 };
  }
  const low = Math.max(from.y, to.y) + NODE_H + ROW_GAP * 0.8;
  const d = `M${x1},${y1} C${x1 + 60},${low} ${x2 - 60},${low} ${x2},${y2}`;
  return { d, lx: (x1 + x2) / 2, ly: low - 4 };
}

export function drawMap(links) {
  const target = clear($('map'));
  if (!links.length) return;
  const { names, place, width, height } = layout(links);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'service map' });
  const defs = svg('defs');
  for (const [id, cls] of [['map-arrow', 'arrow'], ['map-arrow-error', 'arrow error']]) {
    const marker = svg('marker', { id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 10, markerHeight: 10, orient: 'auto' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }));
    defs.append(marker);
  }
  root.append(defs);
  const most = Math.max(...links.map((l) => l.call_count));
  for (const l of links) {
    const { d, lx, ly } = edgePath(place.get(l.parent), place.get(l.child));
    const errors = l.error_count > 0;
    const group = svg('g', { class: errors ? 'map-edge error' : 'map-edge' });
    group.dataset.parent = l.parent;
    group.dataset.child = l.child;
    const path = svg('path', {
      d, class: 'edge-line', 'marker-end': `url(#${errors ? 'map-arrow-error' : 'map-arrow'})`,
      'stroke-width': (1.2 + 3 * Math.log1p(l.call_count) / Math.log1p(most)).toFixed(2),
    });
    const text = `${plural(l.call_count, 'call')}${errors ? ` · ${plural(l.error_count, 'error')}` : ''}`;
    path.append(svg('title', null, `${l.parent} → ${l.child}\n${text}`));
    group.append(path, svg('text', { class: 'edge-label', x: lx.toFixed(1), y: (ly - 6).toFixed(1), 'text-anchor': 'middle' }, text));
    root.append(group);
  }
  for (const name of names) {
    const { x, y } = place.get(name);
    const calledBy = links.filter((l) => l.child === name);
    const calls = calledBy.reduce((a, l) => a + l.call_count, 0);
    const errors = calledBy.reduce((a, l) => a + l.error_count, 0);
    const node = svg('g', { class: errors ? 'map-node error' : 'map-node', transform: `translate(${x},${y})`, tabindex: 0, role: 'link' });
    node.dataset.service = name;
    const swatch = svg('rect', { class: 'swatch', x: 0, y: 0, width: 6, height: NODE_H, rx: 3 });
    swatch.style.fill = serviceColour(name);
    const detail = calledBy.length ? `${plural(calls, 'call')} in${errors ? ` · ${plural(errors, 'error')}` : ''}` : 'entry point';
    node.append(
      svg('rect', { class: 'box', x: 0, y: 0, width: NODE_W, height: NODE_H, rx: 6 }),
      swatch,
      svg('text', { class: 'name', x: 14, y: 19 }, shortName(name)),
      svg('text', { class: 'detail', x: 14, y: 36 }, detail),
      svg('title', null, `${name}\n${detail}\nclick: search its traces`));
    const open = () => {
      const query = new URLSearchParams({ service: name, lookback: $('map-lookback').value });
      location.hash = `#/traces?${query}`;
    };
    node.addEventListener('click', open);
    node.addEventListener('keydown', (event) => { if (event.key === 'Enter') open(); });
    root.append(node);
  }
  target.append(root);
}

async function loadMap(event) {
  if (event) event.preventDefault();
  const summary = $('map-summary');
  summary.classList.remove('error');
  const request = ++mapRequest;
  try {
    const range = timeRange($('map-lookback'));
    summary.textContent = 'Loading…';
    const links = list(await getJSON('dependencies', { start: range.start, end: range.end }, API), 'dependencies');
    if (request !== mapRequest) return;
    drawMap(links);
    const services = new Set(links.flatMap((l) => [l.parent, l.child])).size;
    const calls = links.reduce((a, l) => a + l.call_count, 0);
    const errors = links.reduce((a, l) => a + l.error_count, 0);
    summary.textContent = links.length
      ? `${plural(services, 'service')}, ${plural(links.length, 'link')}, ${plural(calls, 'call')}, ${plural(errors, 'error')}`
      : 'No calls between services in this range (a call is a span whose parent span is of another service).';
    if (!links.length && range.start !== null) {
      const all = el('button', { type: 'button', id: 'map-all-time' }, 'Show all time');
      all.addEventListener('click', () => { $('map-lookback').value = ''; loadMap(); });
      summary.append(' ', all);
    }
  } catch (err) {
    if (request === mapRequest) { clear($('map')); report(err, summary); }
  }
}

export function showMap() {
  $('view-map').hidden = false;
  loadMap();
}

$('map-search').addEventListener('submit', loadMap);
$('map-lookback').addEventListener('change', () => loadMap());
