// obsvty web UI: the live log list.
import { $, API, attrFilter, big, clear, el, fmtTime, fmtValue, getJSON, list, report, traceLink } from './common.js';

// ------------------------------------------------------------------ logs
// A live list, newest first, on GET api/v1/logs. The API orders logs by (time, store order)
// descending and pages towards older records with `cursor` (= the previous page's
// `next_cursor`); "Older logs" follows that cursor, so paging down never skips or repeats.
// Live refresh asks for everything from LIVE_WINDOW_NS before the newest record shown
// (`start`, inclusive) and replaces that window of the list with the answer: records already
// shown are recognised by their full content (a multiset, so identical records are counted,
// not merged), the rest are new, and logs that arrive late (an SDK batches them for seconds)
// still land in their place. While older pages are still to come, the window starts after the
// oldest record shown, so that "Older logs" alone brings those. When the window holds more than
// LIVE_MAX_PAGES pages, the list
// restarts from the newest page; the older ones stay reachable through "Older logs".
const SEVERITIES = [[21, 'fatal'], [17, 'error'], [13, 'warn'], [9, 'info'], [5, 'debug'], [1, 'trace']];
const LOG_PAGE = 200;
const LIVE_PAGE = 1000;
const LIVE_MAX_PAGES = 5;
const LIVE_WINDOW_NS = 60n * 1000000000n;
const LIVE_INTERVAL_MS = 2000;
function severityClass(number, text) {
  for (const [min, name] of SEVERITIES) if (Number(number) >= min) return name;
  const t = String(text || '').toLowerCase();
  for (const [, name] of SEVERITIES) if (t.startsWith(name)) return name;
  return 'unset';
}
const logState = { records: [], older: null, generation: 0, busy: false };
let liveTimer = null;
function logFilters() {
  return {
    service: $('ls-service').value,
    min_severity: $('ls-severity').value,
    body: $('ls-text').value.trim(),
    trace_id: $('ls-trace').value.trim().toLowerCase(),
    attr: attrFilter($('ls-attr').value),
  };
}
function logTime(r) {
  const t = big(r.time_unix_nano);
  return t !== 0n ? t : big(r.observed_time_unix_nano);
}
function logKey(r) { return JSON.stringify(r); }
function logRow(r, fresh) {
  const sevClass = severityClass(r.severity_number, r.severity_text);
  const sevText = r.severity_text || (sevClass === 'unset' ? '—' : sevClass.toUpperCase());
  const resource = r.resource || {};
  const service = resource.service_name || (resource.attributes || {})['service.name'] || '';
  const traceCell = el('td', { class: 'trace' });
  if (r.trace_id) {
    const link = traceLink(r.trace_id, String(r.trace_id).slice(0, 16));
    link.title = `open trace ${r.trace_id}`;
    traceCell.append(link);
  }
  const row = el('tr', { class: `log-row sev-row-${sevClass}${fresh ? ' new' : ''}` },
    el('td', { class: 'time' }, fmtTime(logTime(r))),
    el('td', null, el('span', { class: `sev sev-${sevClass}` }, sevText)),
    el('td', null, service),
    el('td', { class: 'body' }, fmtValue(r.body)),
    traceCell);
  row.dataset.severity = sevClass;
  return row;
}
export function logSummary() {
  const n = logState.records.length;
  $('ls-summary').textContent = `${n} log record${n === 1 ? '' : 's'}` +
    `${logState.older ? ' (older ones below)' : ''}${$('ls-live').checked ? ' · live' : ''}`;
  $('ls-more').hidden = !logState.older;
}
function rowsOf(records, fresh) {
  const fragment = document.createDocumentFragment();
  for (const r of records) fragment.append(logRow(r, fresh && fresh.has(r)));
  return fragment;
}
export async function searchLogs(event) {
  if (event) event.preventDefault();
  const summary = $('ls-summary');
  summary.classList.remove('error');
  const generation = ++logState.generation; // answers to an older search are dropped
  try {
    const page = await getJSON('logs', { ...logFilters(), limit: LOG_PAGE });
    if (generation !== logState.generation) return;
    logState.records = list(page, 'records');
    logState.older = page.next_cursor || null;
    clear($('log-results').tBodies[0]).append(rowsOf(logState.records));
    logSummary();
  } catch (err) {
    if (generation === logState.generation) report(err, summary);
  }
}
export async function olderLogs() {
  if (!logState.older) return;
  const generation = logState.generation;
  try {
    const page = await getJSON('logs', { ...logFilters(), limit: LOG_PAGE, cursor: logState.older });
    if (generation !== logState.generation) return;
    const records = list(page, 'records');
    logState.records.push(...records);
    logState.older = page.next_cursor || null;
    $('log-results').tBodies[0].append(rowsOf(records));
    logSummary();
  } catch (err) {
    report(err, $('ls-summary'));
  }
}
async function refreshLogs() {
  // One live refresh (see above). Returns how many new records were shown.
  if (logState.busy) return 0;
  logState.busy = true;
  const generation = logState.generation;
  try {
    if (!logState.records.length) {
      const page = await getJSON('logs', { ...logFilters(), limit: LOG_PAGE });
      if (generation !== logState.generation) return 0;
      const records = list(page, 'records');
      if (!records.length) return 0;
      logState.records = records;
      logState.older = page.next_cursor || null;
      clear($('log-results').tBodies[0]).append(rowsOf(records, new Set(records)));
      logSummary();
      return records.length;
    }
    let newest = 0n;
    for (const r of logState.records) { const t = logTime(r); if (t > newest) newest = t; }
    let since = newest > LIVE_WINDOW_NS ? newest - LIVE_WINDOW_NS : 0n;
    if (logState.older) {
      // older records are still to be paged in by the cursor: the window must not reach them
      const oldest = logTime(logState.records[logState.records.length - 1]) + 1n;
      if (oldest > since) since = oldest;
    }
    const fetched = [];
    let cursor = null;
    for (let i = 0; i < LIVE_MAX_PAGES; i += 1) {
      const params = { ...logFilters(), start: since.toString(), limit: LIVE_PAGE };
      if (cursor) params.cursor = cursor;
      const page = await getJSON('logs', params);
      if (generation !== logState.generation) return 0;
      fetched.push(...list(page, 'records'));
      cursor = page.next_cursor || null;
      if (!cursor) break;
    }
    if (cursor) { // more arrived than one refresh reads: start again from the newest page
      await searchLogs();
      return LIVE_PAGE * LIVE_MAX_PAGES;
    }
    let windowLength = 0;
    const shown = new Map();
    while (windowLength < logState.records.length && logTime(logState.records[windowLength]) >= since) {
      const key = logKey(logState.records[windowLength]);
      shown.set(key, (shown.get(key) || 0) + 1);
      windowLength += 1;
    }
    const fresh = new Set();
    for (const r of fetched) {
      const key = logKey(r);
      const left = shown.get(key) || 0;
      if (left > 0) shown.set(key, left - 1);
      else fresh.add(r);
    }
    if (!fresh.size) return 0;
    logState.records = fetched.concat(logState.records.slice(windowLength));
    const tbody = $('log-results').tBodies[0];
    for (let i = 0; i < windowLength; i += 1) tbody.rows[0].remove();
    tbody.prepend(rowsOf(fetched, fresh));
    logSummary();
    return fresh.size;
  } catch (err) {
    report(err, $('ls-summary'));
    return 0;
  } finally {
    logState.busy = false;
  }
}
let logServicesLoaded = false;
export function forgetLogServices() { logServicesLoaded = false; }
async function loadLogServices() {
  if (logServicesLoaded) return;
  const services = list(await getJSON('services', { signal: 'logs' }), 'services');
  const select = $('ls-service');
  const keep = select.value;
  clear(select).append(el('option', { value: '' }, 'any'));
  for (const s of services) select.append(el('option', { value: s }, s));
  select.value = keep;
  logServicesLoaded = true;
}
export function showLogs(arg) {
  $('view-logs').hidden = false;
  const query = new URLSearchParams(arg && arg.startsWith('?') ? arg.slice(1) : '');
  if (query.has('trace_id')) $('ls-trace').value = query.get('trace_id');
  loadLogServices().catch((err) => report(err));
  searchLogs();
  liveTimer = setInterval(() => {
    if ($('ls-live').checked && !document.hidden) refreshLogs();
  }, LIVE_INTERVAL_MS);
  return () => { clearInterval(liveTimer); liveTimer = null; logState.generation += 1; };
}

