// obsvty web UI: the trace search (Jaeger API v3, OTLP/JSON).
import { $, JAEGER, attrFilter, big, clear, el, fmtDuration, fmtTime, getJSON, list, num, otlpSpans, parseDuration, report, rfc3339, serviceColour, summarise, timeRange, traceHref } from './common.js';
import { compareHref } from './compare.js';
import { drawScatter } from './scatter.js';

// ------------------------------------------------------------------ traces: search
let servicesLoaded = false;
export function forgetServices() { servicesLoaded = false; }
async function loadServices() {
  if (servicesLoaded) return;
  const services = list(await getJSON('services', null, JAEGER), 'services');
  for (const select of [$('ts-service'), $('ls-service')]) {
    const keep = select.value;
    clear(select).append(el('option', { value: '' }, 'any'));
    for (const s of services) select.append(el('option', { value: s }, s));
    select.value = keep;
  }
  servicesLoaded = true;
}
export async function loadOperations() {
  const service = $('ts-service').value;
  const select = clear($('ts-operation'));
  select.append(el('option', { value: '' }, 'any'));
  if (!service) return;
  const ops = list(await getJSON('operations', { service }, JAEGER), 'operations');
  const names = [...new Set(ops.map((o) => (typeof o === 'string' ? o : o.name)))].sort();
  for (const name of names) select.append(el('option', { value: name }, name));
}
export async function searchTraces(event) {
  if (event) event.preventDefault();
  const summary = $('ts-summary');
  summary.classList.remove('error');
  const tbody = $('trace-results').tBodies[0];
  try {
    const range = timeRange($('ts-lookback'), $('ts-from'), $('ts-to'));
    const attrs = {};
    for (const f of attrFilter($('ts-attr').value)) {
      const at = f.indexOf('=');
      attrs[f.slice(0, at).trim()] = f.slice(at + 1).trim();
    }
    if ($('ts-errors').checked) attrs.error = 'true';
    const min = parseDuration($('ts-min').value);
    const max = parseDuration($('ts-max').value);
    const params = {
      'query.service_name': $('ts-service').value,
      'query.operation_name': $('ts-operation').value,
      'query.duration_min': min === null ? null : `${min}ns`,
      'query.duration_max': max === null ? null : `${max}ns`,
      'query.start_time_min': range.start === null ? null : rfc3339(range.start),
      'query.start_time_max': range.end === null ? null : rfc3339(range.end),
      'query.attributes': Object.keys(attrs).length ? JSON.stringify(attrs) : null,
      'query.search_depth': $('ts-limit').value || 20,
    };
    summary.textContent = 'Searching…';
    const traces = summarise(otlpSpans(await getJSON('traces', params, JAEGER)));
    clear(tbody);
    const rows = document.createDocumentFragment();
    for (const t of traces) rows.append(traceRow(t));
    tbody.append(rows);
    drawScatter($('ts-scatter'), traces);
    summary.textContent = `${traces.length} trace${traces.length === 1 ? '' : 's'} found`;
    if (!traces.length && (range.start !== null || range.end !== null)) await offerNewest(summary, range);
  } catch (err) {
    clear(tbody);
    drawScatter($('ts-scatter'), []);
    report(err, summary);
  }
}
// An empty time range while spans are stored outside it (the official OTLP examples are from
// 2018, far from the default hour): say when the newest span started and offer all time.
async function offerNewest(summary, range) {
  const traces = ((await getJSON('stats')).signals || {}).traces || {};
  if (traces.newest_unix_nano === null || traces.newest_unix_nano === undefined) {
    summary.textContent = 'No traces found: none stored yet.';
    return;
  }
  const newest = big(traces.newest_unix_nano);
  const before = range.start !== null && newest < big(range.start);
  const after = range.end !== null && newest >= big(range.end);
  if (!before && !after) return; // spans in range, the other filters left none
  const all = el('button', { type: 'button', id: 'ts-all-time' }, 'Search all time');
  all.addEventListener('click', () => {
    $('ts-lookback').value = '';
    $('ts-lookback').dispatchEvent(new Event('change'));
    searchTraces();
  });
  summary.textContent = `No traces in this time range. The newest stored span started at ${fmtTime(newest)}. `;
  summary.append(all);
}
// two traces picked in the results are compared (#/compare/A/B); a third pick drops the first
let picked = [];
function pickTrace(id, on) {
  picked = picked.filter((p) => p !== id);
  if (on) picked.push(id);
  if (picked.length > 2) picked = picked.slice(-2);
  for (const box of document.querySelectorAll('#trace-results .cmp-pick')) {
    box.checked = picked.includes(box.closest('tr').dataset.traceId);
  }
  const button = $('ts-compare');
  button.disabled = picked.length !== 2;
  button.textContent = picked.length === 2 ? 'Compare the 2 picked traces' : `Compare: pick ${2 - picked.length} more`;
}
export function compareButton() {
  $('ts-compare').addEventListener('click', () => {
    if (picked.length === 2) location.hash = compareHref(picked[0], picked[1]);
  });
  pickTrace('', false);
}
function traceRow(t) {
  const id = t.trace_id || t.traceId || '';
  const services = el('td');
  for (const s of t.services || []) {
    const chip = el('span', { class: 'chip' }, s);
    chip.style.backgroundColor = serviceColour(s);
    services.append(chip);
  }
  const errors = Number(t.error_count || 0);
  const pick = el('input', { type: 'checkbox', class: 'cmp-pick', title: 'pick two traces to compare', 'aria-label': 'compare this trace' });
  pick.checked = picked.includes(id);
  pick.addEventListener('change', () => pickTrace(id, pick.checked));
  const row = el('tr', { class: 'trace-row' },
    el('td', null,
      pick,
      el('a', { href: traceHref(id), class: 'name' }, `${t.root_service || ''}: ${t.root_name || ''}`),
      el('div', { class: 'id' }, id)),
    services,
    el('td', { class: 'num' }, String(t.span_count ?? '')),
    el('td', { class: errors ? 'num errors' : 'num' }, errors ? String(errors) : ''),
    el('td', null, fmtTime(t.start_time_unix_nano)),
    el('td', { class: 'num' }, fmtDuration(t.duration_ns)));
  row.dataset.traceId = id;
  return row;
}
export async function showTraces(arg) {
  // #/traces?service=name&lookback=1h (from the service map): search that service's traces
  $('view-traces').hidden = false;
  const query = new URLSearchParams(arg && arg.startsWith('?') ? arg.slice(1) : '');
  try {
    if (query.has('service')) forgetServices(); // a service the list may not know yet
    await loadServices();
    if (query.has('service')) {
      $('ts-service').value = query.get('service');
      if (query.has('lookback')) {
        $('ts-lookback').value = query.get('lookback');
        $('ts-lookback').dispatchEvent(new Event('change'));
      }
      await loadOperations();
      searchTraces();
      return;
    }
  } catch (err) { report(err); return; }
  if (!$('trace-results').tBodies[0].rows.length) searchTraces();
}

