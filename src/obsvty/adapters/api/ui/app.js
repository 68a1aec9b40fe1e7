// obsvty web UI. Vanilla JS, no build step, no external resources.
//
// Safety rule: every string that came from telemetry reaches the page through textContent,
// Text nodes or attribute setters of known-safe values (hex ids we validated), never through
// an HTML-parsing setter. The server's Content-Security-Policy forbids inline script as a second line.
'use strict';

(() => {
  const API = 'api/v1'; // native API: logs and metrics
  const JAEGER = 'jaeger/api/v3'; // traces: OTLP/JSON, every field of every span
  const TOKEN_KEY = 'obsvty.queryToken';
  const HEX_ID = /^[0-9a-f]{1,32}$/;
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  function clear(node) { node.replaceChildren(); return node; }
  function traceHref(id) {
    const hex = String(id || '').toLowerCase();
    return HEX_ID.test(hex) ? `#/trace/${hex}` : null;
  }
  function traceLink(id, text) {
    const href = traceHref(id);
    return href ? el('a', { href, class: 'id' }, text || id) : el('span', { class: 'id' }, text || id || '');
  }
  function setStatus(text, isError) {
    const s = $('status');
    s.textContent = text || '';
    s.classList.toggle('error', Boolean(isError));
  }

  // ------------------------------------------------------------------ formatting
  // Times arrive as unix nanoseconds (numbers or decimal strings). Offsets inside a trace are
  // computed with BigInt so that nanosecond precision survives.
  function big(v) {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
    return 0n;
  }
  function fmtDuration(ns) {
    const n = Number(ns);
    if (!Number.isFinite(n)) return '';
    const abs = Math.abs(n);
    if (abs < 1e3) return `${n} ns`;
    if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 2 : 1)} µs`;
    if (abs < 1e9) return `${(n / 1e6).toFixed(abs < 1e7 ? 2 : 1)} ms`;
    if (abs < 60e9) return `${(n / 1e9).toFixed(2)} s`;
    return `${(n / 60e9).toFixed(1)} min`;
  }
  function pad(n, w = 2) { return String(n).padStart(w, '0'); }
  function fmtTime(ns) {
    const b = big(ns);
    if (b === 0n) return '';
    const ms = Number(b / 1000000n);
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }
  function parseDuration(text) {
    // "100ms", "1.5s", "2m", "250us": nanoseconds, or null when empty. Throws when malformed.
    const t = (text || '').trim();
    if (!t) return null;
    const units = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)?$/.exec(t);
    if (!m) throw new Error(`"${t}" is not a duration such as 100ms or 1.5s`);
    return Math.round(parseFloat(m[1]) * units[m[2] || 'ms']);
  }
  function lookbackNs(value) {
    const m = /^(\d+)(m|h)$/.exec(value || '');
    if (!m) return null;
    return Number(m[1]) * (m[2] === 'm' ? 60e9 : 3600e9);
  }
  const PALETTE = ['#1f77b4', '#e377c2', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#8c564b',
    '#bcbd22', '#d62728', '#7f7f7f'];
  let traceColours = new Map(); // distinct colours for the services of the trace on screen
  function serviceColour(name) {
    if (traceColours.has(name)) return traceColours.get(name);
    let h = 0;
    for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }
  const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
  function kindName(k) {
    if (typeof k === 'number') return KINDS[k] || String(k);
    return String(k || '').toLowerCase().replace('span_kind_', '');
  }
  function isErrorStatus(code) {
    return code === 2 || code === 'ERROR' || code === 'STATUS_CODE_ERROR' || code === 'error';
  }

  // ------------------------------------------------------------------ API access
  class Unauthorized extends Error {}
  async function getJSON(path, params, base = API) {
    const url = new URL(`${base}/${path}`, document.baseURI);
    if (params) {
      for (const [key, value] of Object.entries(params)) {
        if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
        else if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, value);
      }
    }
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { headers });
    if (res.status === 401) {
      $('auth').hidden = false;
      throw new Unauthorized('a query token is needed');
    }
    let body = null;
    try { body = parseJSON(await res.text(), base === API); } catch { body = null; }
    if (!res.ok) {
      const detail = body && (body.detail || body.message || body.error);
      throw new Error(typeof detail === 'string' ? detail : `${res.status} ${res.statusText}`);
    }
    return body;
  }
  // The native API sends unix-nanosecond times as JSON numbers, beyond a double's exact range:
  // where the browser gives a reviver the source text, such integers are kept exact as strings
  // (every consumer here goes through big()/fmtValue()).
  function exactIntegers(key, value, context) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
      return context.source;
    }
    return value;
  }
  function parseJSON(text, exact) { return exact ? JSON.parse(text, exactIntegers) : JSON.parse(text); }
  function list(body, ...keys) {
    if (Array.isArray(body)) return body;
    for (const key of keys) if (body && Array.isArray(body[key])) return body[key];
    return [];
  }
  function attrFilter(text) {
    const t = (text || '').trim();
    if (!t) return [];
    if (!t.includes('=')) throw new Error('an attribute filter is key=value');
    return [t];
  }

  // ------------------------------------------------------------------ router
  let leaveView = null;
  function route() {
    if (leaveView) { leaveView(); leaveView = null; }
    const hash = location.hash || '#/traces';
    const [, view, arg] = /^#\/([a-z]+)\/?(.*)$/.exec(hash) || [null, 'traces', ''];
    for (const section of document.querySelectorAll('.view')) section.hidden = true;
    for (const link of document.querySelectorAll('[data-nav]')) {
      link.classList.toggle('active', link.dataset.nav === (view === 'trace' ? 'traces' : view));
    }
    setStatus('');
    if (view === 'trace') showTrace(decodeURIComponent(arg));
    else if (view === 'logs') showLogs(arg);
    else if (view === 'metrics') showMetrics();
    else showTraces();
  }
  function report(err, target) {
    if (err instanceof Unauthorized) { setStatus('token needed', true); return; }
    const message = err && err.message ? err.message : String(err);
    if (target) { target.textContent = message; target.classList.add('error'); }
    setStatus(message, true);
  }

  // ------------------------------------------------------------------ traces: search
  let servicesLoaded = false;
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
  async function loadOperations() {
    const service = $('ts-service').value;
    const select = clear($('ts-operation'));
    select.append(el('option', { value: '' }, 'any'));
    if (!service) return;
    const ops = list(await getJSON('operations', { service }, JAEGER), 'operations');
    const names = [...new Set(ops.map((o) => (typeof o === 'string' ? o : o.name)))].sort();
    for (const name of names) select.append(el('option', { value: name }, name));
  }
  function timeRange(lookbackSelect, fromInput, toInput) {
    const value = lookbackSelect.value;
    if (value === 'custom') {
      const from = fromInput && fromInput.value ? Date.parse(fromInput.value) : NaN;
      const to = toInput && toInput.value ? Date.parse(toInput.value) : NaN;
      return {
        start: Number.isNaN(from) ? null : (BigInt(from) * 1000000n).toString(),
        end: Number.isNaN(to) ? null : (BigInt(to) * 1000000n).toString(),
      };
    }
    const span = lookbackNs(value);
    if (span === null) return { start: null, end: null };
    const now = BigInt(Date.now()) * 1000000n;
    return { start: (now - BigInt(span)).toString(), end: null };
  }
  async function searchTraces(event) {
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
      summary.textContent = `${traces.length} trace${traces.length === 1 ? '' : 's'} found`;
      if (!traces.length && (range.start !== null || range.end !== null)) await offerNewest(summary, range);
    } catch (err) {
      clear(tbody);
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
  // ------------------------------------------------------------------ OTLP/JSON -> UI records
  function anyValue(v) {
    if (!v || typeof v !== 'object') return null;
    if ('stringValue' in v) return v.stringValue;
    if ('boolValue' in v) return v.boolValue;
    if ('intValue' in v) {
      const n = Number(v.intValue);
      return Number.isSafeInteger(n) ? n : String(v.intValue);
    }
    if ('doubleValue' in v) return Number(v.doubleValue);
    if ('bytesValue' in v) return { bytes: v.bytesValue };
    if ('arrayValue' in v) return ((v.arrayValue && v.arrayValue.values) || []).map(anyValue);
    if ('kvlistValue' in v) return kvs((v.kvlistValue && v.kvlistValue.values) || []);
    return null;
  }
  function kvs(list) {
    const out = {};
    for (const kv of list || []) out[kv.key] = anyValue(kv.value);
    return out;
  }
  function otlpSpans(body) {
    const spans = [];
    const resourceSpans = (body && body.result && body.result.resourceSpans) || [];
    for (const rs of resourceSpans) {
      const resource = { attributes: kvs(rs.resource && rs.resource.attributes) };
      for (const ss of rs.scopeSpans || []) {
        const scope = ss.scope || {};
        for (const sp of ss.spans || []) {
          const status = sp.status || {};
          spans.push({
            trace_id: sp.traceId || '',
            span_id: sp.spanId || '',
            parent_span_id: sp.parentSpanId || '',
            name: sp.name || '',
            kind: sp.kind || 0,
            start_time_unix_nano: sp.startTimeUnixNano || '0',
            end_time_unix_nano: sp.endTimeUnixNano || '0',
            status_code: status.code || 0,
            status_message: status.message || '',
            trace_state: sp.traceState || '',
            attributes: kvs(sp.attributes),
            events: (sp.events || []).map((e) => ({
              time_unix_nano: e.timeUnixNano || '0', name: e.name || '', attributes: kvs(e.attributes),
            })),
            links: (sp.links || []).map((l) => ({
              trace_id: l.traceId || '', span_id: l.spanId || '', attributes: kvs(l.attributes),
            })),
            resource,
            scope: { name: scope.name || '', version: scope.version || '' },
          });
        }
      }
    }
    return spans;
  }
  function summarise(spans) {
    // One search hit per trace: root (no parent, else earliest), services, counts, extent.
    const traces = new Map();
    for (const s of spans) {
      if (!traces.has(s.trace_id)) traces.set(s.trace_id, []);
      traces.get(s.trace_id).push(normaliseSpan(s));
    }
    const out = [];
    for (const [id, list] of traces) {
      const ids = new Set(list.map((s) => s.id));
      let root = null;
      let start = null;
      let end = null;
      for (const s of list) {
        if (start === null || s.start < start) start = s.start;
        if (end === null || s.end > end) end = s.end;
        const isRoot = !s.parent || !ids.has(s.parent);
        const better = !root || (isRoot && !root.isRoot) || (isRoot === root.isRoot && s.start < root.span.start);
        if (better) root = { span: s, isRoot };
      }
      out.push({
        trace_id: id,
        root_service: root.span.service,
        root_name: root.span.name,
        start_time_unix_nano: start,
        duration_ns: Number(end - start),
        span_count: list.length,
        error_count: list.filter((s) => isErrorStatus(s.statusCode)).length,
        services: [...new Set(list.map((s) => s.service))].sort(),
      });
    }
    return out.sort((a, b) => (a.start_time_unix_nano > b.start_time_unix_nano ? -1 : 1));
  }
  function rfc3339(ns) {
    const b = big(ns);
    const iso = new Date(Number(b / 1000000n)).toISOString(); // ...T10:00:00.123Z
    return `${iso.slice(0, 19)}.${(b % 1000000000n).toString().padStart(9, '0')}Z`;
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
    const row = el('tr', { class: 'trace-row' },
      el('td', null,
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
  async function showTraces() {
    $('view-traces').hidden = false;
    try {
      await loadServices();
    } catch (err) { report(err); return; }
    if (!$('trace-results').tBodies[0].rows.length) searchTraces();
  }

  // ------------------------------------------------------------------ traces: one trace
  // A span as the UI needs it, from the native API's JSON.
  function normaliseSpan(s) {
    const resource = s.resource || {};
    const resourceAttrs = resource.attributes || {};
    const status = s.status || {};
    return {
      raw: s,
      id: s.span_id || s.spanId || '',
      parent: s.parent_span_id || s.parentSpanId || '',
      name: s.name || '',
      service: s.service || s.service_name || resourceAttrs['service.name'] || 'unknown_service',
      start: big(s.start_time_unix_nano ?? s.startTimeUnixNano),
      end: big(s.end_time_unix_nano ?? s.endTimeUnixNano),
      kind: s.kind,
      statusCode: s.status_code ?? status.code ?? 0,
      statusMessage: s.status_message ?? status.message ?? '',
      attributes: s.attributes || {},
      events: s.events || [],
      links: s.links || [],
      resource: resourceAttrs,
      scope: s.scope || {},
      traceState: s.trace_state || '',
    };
  }
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
    traceColours = new Map(services.map((name, i) => [name, PALETTE[i % PALETTE.length]]));
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
  function kvTable(attributes) {
    const entries = Object.entries(attributes || {});
    if (!entries.length) return el('p', { class: 'hint' }, 'none');
    const table = el('table', { class: 'kv' });
    for (const [key, value] of entries) table.append(el('tr', null, el('td', null, key), el('td', null, fmtValue(value))));
    return table;
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
  async function showTrace(traceId) {
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
  function logSummary() {
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
  async function searchLogs(event) {
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
  async function olderLogs() {
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
  function showLogs(arg) {
    $('view-logs').hidden = false;
    const query = new URLSearchParams(arg && arg.startsWith('?') ? arg.slice(1) : '');
    if (query.has('trace_id')) $('ls-trace').value = query.get('trace_id');
    loadLogServices().catch((err) => report(err));
    searchLogs();
    liveTimer = setInterval(() => {
      if ($('ls-live').checked && !document.hidden) refreshLogs();
    }, LIVE_INTERVAL_MS);
    leaveView = () => { clearInterval(liveTimer); liveTimer = null; logState.generation += 1; };
  }

  // ------------------------------------------------------------------ metrics
  // GET api/v1/metrics lists names and types; GET api/v1/metrics/{name}/series answers one
  // series per stream (resource, scope, attributes: two processes are two lines). Shown as:
  // gauges by value, sums as a per-second rate (mode=rate; "value" shows the running total),
  // histograms as percentile lines (p50/p90/p99 estimated by the API from each step's bucket
  // increases), summaries by their quantiles. A sample with value, count and sum all null is a
  // break (a restart, a reset, a pause): the line is not joined across it.
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const CHART_PERCENTILES = ['p50', 'p90', 'p99'];
  const MAX_RAW_SAMPLES = 240; // more samples than this per series: ask for steps instead
  const metricInfo = new Map();
  let metricRequest = 0;
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
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
  function metricServices(name) {
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
  function num(v) {
    const n = typeof v === 'number' ? v : (typeof v === 'string' && v !== '' ? Number(v) : NaN);
    return Number.isFinite(n) ? n : null;
  }
  function niceTicks(lo, hi, count) {
    const raw = (hi - lo) / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    const top = Math.ceil(hi / step - 1e-9) * step;
    for (let v = Math.floor(lo / step + 1e-9) * step; v <= top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
    return ticks;
  }
  function fmtNumber(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toString();
  }
  function drawChart(lines, unit) {
    const chart = clear($('chart'));
    const legend = clear($('chart-legend'));
    if (!lines.length) { chart.append(el('p', { class: 'hint' }, 'No points in this range.')); return 0; }
    const width = Math.max(400, Math.round(chart.clientWidth - 16)); // one layout read: 1 unit = 1 px
    const height = 360;
    const m = { l: 70, r: 24, t: 16, b: 28 };
    let t0 = null; let t1 = null; let v0 = Infinity; let v1 = -Infinity;
    for (const line of lines) for (const p of line.points) {
      if (t0 === null || p.t < t0) t0 = p.t;
      if (t1 === null || p.t > t1) t1 = p.t;
      if (p.v !== null) { v0 = Math.min(v0, p.v); v1 = Math.max(v1, p.v); }
    }
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
      root.append(svg('text', { x: m.l - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, fmtNumber(v)));
    }
    if (unit) root.append(svg('text', { class: 'unit', x: 4, y: m.t + 4 }, unit));
    const longRange = tSpan > 86400e9;
    for (let i = 0; i <= 4; i += 1) {
      if (!tSpan && i !== 2) continue;
      const t = t0 + BigInt(Math.round((tSpan * i) / 4));
      const text = longRange ? fmtTime(t).slice(5, 16) : fmtTime(t).slice(11, tSpan < 10e9 ? 23 : 19);
      root.append(svg('text', { x: x(t).toFixed(1), y: height - 8, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, text));
    }
    root.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
    root.append(svg('line', { class: 'axis', x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b }));
    lines.forEach((line, i) => {
      const colour = PALETTE[i % PALETTE.length];
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
      const swatch = el('span', { class: 'swatch' });
      swatch.style.backgroundColor = colour;
      legend.append(el('li', null, swatch, line.label));
    });
    chart.append(root);
    return lines.length;
  }
  async function showSeries(event) {
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
  async function showMetrics() {
    $('view-metrics').hidden = false;
    try {
      await loadMetricNames();
      metricServices($('ms-name').value);
      if ($('ms-name').value) showSeries();
    } catch (err) { report(err); }
  }

  // ------------------------------------------------------------------ wiring
  $('trace-search').addEventListener('submit', searchTraces);
  $('ts-service').addEventListener('change', () => loadOperations().catch((err) => report(err)));
  $('ts-lookback').addEventListener('change', () => {
    const custom = $('ts-lookback').value === 'custom';
    for (const label of document.querySelectorAll('.custom-range')) label.hidden = !custom;
  });
  for (const label of document.querySelectorAll('.custom-range')) label.hidden = true;
  $('log-search').addEventListener('submit', searchLogs);
  $('ls-more').addEventListener('click', olderLogs);
  for (const id of ['ls-service', 'ls-severity']) $(id).addEventListener('change', () => searchLogs());
  $('ls-live').addEventListener('change', logSummary);
  $('metric-search').addEventListener('submit', showSeries);
  $('ms-name').addEventListener('change', () => { metricServices($('ms-name').value); showSeries(); });
  for (const id of ['ms-lookback', 'ms-service', 'ms-show']) $(id).addEventListener('change', () => showSeries());
  $('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('auth-token').value);
    $('auth').hidden = true;
    servicesLoaded = false;
    logServicesLoaded = false;
    route();
  });
  window.addEventListener('hashchange', route);
  route();
})();
