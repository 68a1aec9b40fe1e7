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
    try { body = await res.json(); } catch { body = null; }
    if (!res.ok) {
      const detail = body && (body.detail || body.message || body.error);
      throw new Error(typeof detail === 'string' ? detail : `${res.status} ${res.statusText}`);
    }
    return body;
  }
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
    else if (view === 'logs') showLogs();
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
    } catch (err) {
      clear(tbody);
      report(err, summary);
    }
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
  const SEVERITIES = [[21, 'fatal'], [17, 'error'], [13, 'warn'], [9, 'info'], [5, 'debug'], [1, 'trace']];
  function severityClass(number, text) {
    for (const [min, name] of SEVERITIES) if (Number(number) >= min) return name;
    const t = String(text || '').toLowerCase();
    for (const [, name] of SEVERITIES) if (t.startsWith(name)) return name;
    return 'info';
  }
  let logCursor = null;
  let logKeys = new Set();
  let liveTimer = null;
  function logParams() {
    return {
      service: $('ls-service').value,
      min_severity: $('ls-severity').value,
      body_contains: $('ls-text').value.trim(),
      trace_id: $('ls-trace').value.trim().toLowerCase(),
      attr: attrFilter($('ls-attr').value),
      limit: 100,
    };
  }
  function logKey(r) {
    return `${r.time_unix_nano}|${r.observed_time_unix_nano}|${r.trace_id || ''}|${r.span_id || ''}|${fmtValue(r.body)}`;
  }
  function logRow(r, fresh) {
    const sevClass = severityClass(r.severity_number, r.severity_text);
    const sevText = r.severity_text || sevClass.toUpperCase();
    const resource = (r.resource && r.resource.attributes) || {};
    const service = r.service || resource['service.name'] || '';
    const time = big(r.time_unix_nano) !== 0n ? r.time_unix_nano : r.observed_time_unix_nano;
    const row = el('tr', { class: fresh ? 'log-row new' : 'log-row' },
      el('td', { class: 'time' }, fmtTime(time)),
      el('td', null, el('span', { class: `sev sev-${sevClass}` }, sevText)),
      el('td', null, service),
      el('td', { class: 'body' }, fmtValue(r.body)),
      el('td', null, r.trace_id ? traceLink(r.trace_id, String(r.trace_id).slice(0, 8)) : ''));
    row.dataset.severity = sevClass;
    return row;
  }
  async function searchLogs(event, options = {}) {
    if (event) event.preventDefault();
    const summary = $('ls-summary');
    summary.classList.remove('error');
    const tbody = $('log-results').tBodies[0];
    try {
      const params = logParams();
      if (options.older && logCursor) params.cursor = logCursor;
      const page = await getJSON('logs', params);
      const records = list(page, 'records', 'logs', 'data');
      const fragment = document.createDocumentFragment();
      const keys = new Set();
      for (const r of records) {
        const key = logKey(r);
        keys.add(key);
        fragment.append(logRow(r, options.live && !logKeys.has(key)));
      }
      if (options.older) {
        tbody.append(fragment);
        for (const k of keys) logKeys.add(k);
      } else {
        clear(tbody).append(fragment);
        logKeys = keys;
      }
      logCursor = page && (page.next_cursor || page.nextCursor) ? (page.next_cursor || page.nextCursor) : null;
      $('ls-more').hidden = !logCursor;
      summary.textContent = `${tbody.rows.length} log records${$('ls-live').checked ? ' · live' : ''}`;
    } catch (err) {
      report(err, summary);
    }
  }
  function showLogs() {
    $('view-logs').hidden = false;
    loadServices().catch((err) => report(err));
    searchLogs();
    liveTimer = setInterval(() => {
      if ($('ls-live').checked && !document.hidden) searchLogs(null, { live: true });
    }, 2000);
    leaveView = () => { clearInterval(liveTimer); liveTimer = null; };
  }

  // ------------------------------------------------------------------ metrics
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  async function loadMetricNames() {
    const metrics = list(await getJSON('metrics'), 'metrics', 'data');
    const select = $('ms-name');
    const keep = select.value;
    clear(select).append(el('option', { value: '' }, 'choose a metric'));
    for (const m of metrics) {
      const name = typeof m === 'string' ? m : m.name;
      const label = typeof m === 'string' ? m : `${m.name} (${m.type}${m.unit ? `, ${m.unit}` : ''})`;
      select.append(el('option', { value: name }, label));
    }
    if (keep) select.value = keep;
  }
  function seriesPoints(series) {
    // [{t: ns(bigint), v: number}] from the native API's series JSON
    const points = series.points || series.values || [];
    return points.map((p) => (Array.isArray(p)
      ? { t: big(p[0]), v: Number(p[1]) }
      : { t: big(p.time_unix_nano ?? p.t ?? p.time), v: Number(p.value ?? p.v) }))
      .filter((p) => Number.isFinite(p.v));
  }
  function seriesLabel(series, index) {
    const attrs = series.attributes || series.labels || {};
    const text = Object.entries(attrs).map(([k, v]) => `${k}=${fmtValue(v)}`).join(', ');
    return text || series.name || `series ${index + 1}`;
  }
  function drawChart(allSeries) {
    const chart = clear($('chart'));
    const legend = clear($('chart-legend'));
    const width = 1000;
    const height = 360;
    const m = { l: 64, r: 16, t: 12, b: 28 };
    const plotted = allSeries.map((s, i) => ({ label: seriesLabel(s, i), points: seriesPoints(s) }))
      .filter((s) => s.points.length);
    if (!plotted.length) { chart.append(el('p', { class: 'hint' }, 'No points in this range.')); return 0; }
    let t0 = null; let t1 = null; let v0 = Infinity; let v1 = -Infinity;
    for (const s of plotted) for (const p of s.points) {
      if (t0 === null || p.t < t0) t0 = p.t;
      if (t1 === null || p.t > t1) t1 = p.t;
      v0 = Math.min(v0, p.v); v1 = Math.max(v1, p.v);
    }
    if (v0 === v1) { v0 -= 1; v1 += 1; }
    if (v0 > 0 && v0 < v1 * 0.5) v0 = 0;
    const tSpan = Number(t1 - t0) || 1;
    const x = (t) => m.l + (Number(t - t0) / tSpan) * (width - m.l - m.r);
    const y = (v) => height - m.b - ((v - v0) / (v1 - v0)) * (height - m.t - m.b);
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
    for (let i = 0; i <= 4; i += 1) {
      const v = v0 + ((v1 - v0) * i) / 4;
      root.append(svg('line', { class: 'grid', x1: m.l, x2: width - m.r, y1: y(v), y2: y(v) }));
      root.append(svg('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, Number(v.toPrecision(4)).toString()));
    }
    for (let i = 0; i <= 4; i += 1) {
      const t = t0 + (BigInt(Math.round((tSpan * i) / 4)));
      root.append(svg('text', { x: x(t), y: height - 8, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, fmtTime(t).slice(11, 19)));
    }
    root.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
    root.append(svg('line', { class: 'axis', x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b }));
    plotted.forEach((s, i) => {
      const colour = serviceColour(`${s.label}#${i}`);
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
      const path = svg('path', { class: 'line', d });
      path.style.stroke = colour;
      root.append(path);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.backgroundColor = colour;
      legend.append(el('li', null, swatch, s.label));
    });
    chart.append(root);
    return plotted.length;
  }
  async function showSeries(event) {
    if (event) event.preventDefault();
    const name = $('ms-name').value;
    const summary = $('ms-summary');
    summary.classList.remove('error');
    if (!name) { summary.textContent = 'Pick a metric.'; return; }
    try {
      const range = timeRange($('ms-lookback'));
      const body = await getJSON(`metrics/${encodeURIComponent(name)}/series`, { start: range.start, end: range.end });
      const series = list(body, 'series', 'data');
      const count = drawChart(series);
      summary.textContent = `${name}: ${count} series`;
    } catch (err) {
      report(err, summary);
    }
  }
  async function showMetrics() {
    $('view-metrics').hidden = false;
    try { await loadMetricNames(); } catch (err) { report(err); }
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
  $('ls-more').addEventListener('click', () => searchLogs(null, { older: true }));
  $('metric-search').addEventListener('submit', showSeries);
  $('ms-name').addEventListener('change', () => showSeries());
  $('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('auth-token').value);
    $('auth').hidden = true;
    servicesLoaded = false;
    route();
  });
  window.addEventListener('hashchange', route);
  route();
})();
