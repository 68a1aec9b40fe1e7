// obsvty web UI: the live log list.
import { $, API, attrFilter, big, clear, el, fmtTime, fmtValue, getJSON, kvTable, list, report, timeRange, traceLink } from './common.js';

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
// The list follows new records while its top is in view; scrolled down, the records being read
// stay in place and a button counts the new ones above. A click on a record opens it (body,
// attributes, resource, scope, ids); an open record stays open across live refreshes.
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
  const range = timeRange($('ls-lookback'), $('ls-from'), $('ls-to'));
  return {
    start: range.start,
    end: range.end,
    service: $('ls-service').value,
    min_severity: $('ls-severity').value,
    body: $('ls-text').value.trim(),
    trace_id: $('ls-trace').value.trim().toLowerCase(),
    attr: attrFilter($('ls-attr').value),
  };
}
function rangeEnded() { return $('ls-lookback').value === 'custom' && Boolean($('ls-to').value); }
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
    const link = traceLink(r.trace_id, `${String(r.trace_id).slice(0, 12)}…`);
    link.className = 'trace-link';
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
  recordOf.set(row, r);
  return row;
}
const recordOf = new WeakMap(); // row -> its record
function bodyText(body) {
  if (body !== null && typeof body === 'object') return JSON.stringify(body, null, 2);
  return fmtValue(body);
}
function logDetail(r) {
  const resource = r.resource || {};
  const scope = r.scope || {};
  const kv = (rows) => el('table', { class: 'kv' }, ...rows.filter(([, v]) => v !== '' && v !== null && v !== undefined)
    .map(([k, v]) => el('tr', null, el('td', null, k), el('td', null, v instanceof Node ? v : String(v)))));
  const section = (title, ...content) => el('div', { class: 'log-part' }, el('h3', null, title), ...content);
  const attributes = r.attributes || {};
  const box = el('div', { class: 'log-detail-body' },
    section('Body', el('pre', { class: 'log-body' }, bodyText(r.body))),
    section(`Attributes (${Object.keys(attributes).length})`, kvTable(attributes)),
    section('Record', kv([
      ['time', fmtTime(big(r.time_unix_nano))],
      ['observed', fmtTime(big(r.observed_time_unix_nano))],
      ['severity', `${r.severity_text || '—'} (${r.severity_number ?? 0})`],
      ['event name', r.event_name],
      ['trace id', r.trace_id ? traceLink(r.trace_id) : ''],
      ['span id', r.span_id],
      ['flags', r.flags ? String(r.flags) : ''],
      ['dropped attributes', r.dropped_attributes_count || ''],
    ])),
    section('Resource', kvTable(resource.attributes || {}),
      resource.schema_url ? kv([['schema', resource.schema_url]]) : null),
    section('Scope', kv([['name', scope.name || '—'], ['version', scope.version]]),
      Object.keys(scope.attributes || {}).length ? kvTable(scope.attributes) : null));
  for (const link of box.querySelectorAll('a')) link.classList.add('trace-link');
  return el('tr', { class: 'log-detail' }, el('td', { colspan: 5 }, box));
}
function toggleDetail(row) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains('log-detail')) {
    next.remove();
    row.classList.remove('open');
    return;
  }
  row.after(logDetail(recordOf.get(row)));
  row.classList.add('open');
}
function removeRecordRows(tbody, count) {
  // the first `count` records' rows (and their details); returns the keys of those open
  const open = new Set();
  for (let i = 0; i < count; i += 1) {
    const row = tbody.querySelector('tr.log-row');
    if (!row) break;
    const next = row.nextElementSibling;
    if (next && next.classList.contains('log-detail')) { open.add(logKey(recordOf.get(row))); next.remove(); }
    row.remove();
  }
  return open;
}
function reopen(tbody, keys, count) {
  if (!keys.size) return;
  const rows = [...tbody.querySelectorAll('tr.log-row')].slice(0, count);
  for (const row of rows) {
    const key = logKey(recordOf.get(row));
    if (keys.has(key)) { keys.delete(key); toggleDetail(row); }
  }
}
// live tail: follow while the list's top is in view, else keep the reading place and count
let unseen = 0;
function following() { return $('log-results').getBoundingClientRect().top >= -8; }
function showUnseen(added) {
  unseen += added;
  const button = $('ls-new');
  button.textContent = `${unseen} new record${unseen === 1 ? '' : 's'} ↑`;
  button.hidden = false;
}
function clearUnseen() { unseen = 0; $('ls-new').hidden = true; }
export function jumpToNewest() {
  clearUnseen();
  $('log-results').scrollIntoView({ block: 'start' });
}
export function watchScroll() { if (unseen && following()) clearUnseen(); }
export function logSummary() {
  const n = logState.records.length;
  $('ls-summary').textContent = `${n} log record${n === 1 ? '' : 's'}` +
    `${logState.older ? ' (older ones below)' : ''}${$('ls-live').checked && !rangeEnded() ? ' · live' : ''}`;
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
    clearUnseen();
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
    const filters = logFilters();
    if (filters.end !== null) return 0; // a range that has ended gets nothing new
    const from = filters.start !== null ? big(filters.start) : 0n;
    if (!logState.records.length) {
      const page = await getJSON('logs', { ...filters, limit: LOG_PAGE });
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
      const params = { ...filters, start: (from > since ? from : since).toString(), limit: LIVE_PAGE };
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
    const follow = following();
    const height = tbody.offsetHeight;
    const open = removeRecordRows(tbody, windowLength);
    tbody.prepend(rowsOf(fetched, fresh));
    reopen(tbody, open, fetched.length);
    if (!follow) { // keep the records being read where they are; say how many came above
      window.scrollBy(0, tbody.offsetHeight - height);
      showUnseen(fresh.size);
    }
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
export function openRecord(event) {
  if (event.target.closest('a')) return; // a trace link: follow it
  const row = event.target.closest('tr.log-row');
  if (row && !(window.getSelection() || '').toString()) toggleDetail(row); // not when selecting text
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

