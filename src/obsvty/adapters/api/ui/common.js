// obsvty web UI: what every view shares (DOM helpers, formatting, API access, OTLP/JSON records).
// Vanilla JS in ES modules served by obsvty itself: no build step, no external resources.
//
// Safety rule: every string that came from telemetry reaches the page through textContent,
// Text nodes or attribute setters of known-safe values (hex ids we validated), never through
// an HTML-parsing setter. The server's Content-Security-Policy forbids inline script as a second line.

export const API = 'api/v1'; // native API: logs and metrics
export const JAEGER = 'jaeger/api/v3'; // traces: OTLP/JSON, every field of every span
export const TOKEN_KEY = 'obsvty.queryToken';
export const HEX_ID = /^[0-9a-f]{1,32}$/;
export const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ DOM helpers
export function el(tag, attrs, ...children) {
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
export function clear(node) { node.replaceChildren(); return node; }
export function traceHref(id) {
  const hex = String(id || '').toLowerCase();
  return HEX_ID.test(hex) ? `#/trace/${hex}` : null;
}
export function traceLink(id, text) {
  const href = traceHref(id);
  return href ? el('a', { href, class: 'id' }, text || id) : el('span', { class: 'id' }, text || id || '');
}
export function setStatus(text, isError) {
  const s = $('status');
  s.textContent = text || '';
  s.classList.toggle('error', Boolean(isError));
}

// ------------------------------------------------------------------ formatting
// Times arrive as unix nanoseconds (numbers or decimal strings). Offsets inside a trace are
// computed with BigInt so that nanosecond precision survives.
export function big(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
  return 0n;
}
export function fmtDuration(ns) {
  const n = Number(ns);
  if (!Number.isFinite(n)) return '';
  const abs = Math.abs(n);
  if (abs < 1e3) return `${n} ns`;
  if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 2 : 1)} µs`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(abs < 1e7 ? 2 : 1)} ms`;
  if (abs < 60e9) return `${(n / 1e9).toFixed(2)} s`;
  return `${(n / 60e9).toFixed(1)} min`;
}
export function pad(n, w = 2) { return String(n).padStart(w, '0'); }
export function fmtTime(ns) {
  const b = big(ns);
  if (b === 0n) return '';
  const ms = Number(b / 1000000n);
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
export function fmtValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
export function parseDuration(text) {
  // "100ms", "1.5s", "2m", "250us": nanoseconds, or null when empty. Throws when malformed.
  const t = (text || '').trim();
  if (!t) return null;
  const units = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)?$/.exec(t);
  if (!m) throw new Error(`"${t}" is not a duration such as 100ms or 1.5s`);
  return Math.round(parseFloat(m[1]) * units[m[2] || 'ms']);
}
export function lookbackNs(value) {
  const m = /^(\d+)(m|h)$/.exec(value || '');
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'm' ? 60e9 : 3600e9);
}
export const PALETTE = ['#1f77b4', '#e377c2', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#8c564b',
  '#bcbd22', '#d62728', '#7f7f7f'];
let traceColours = new Map(); // distinct colours for the services of the trace on screen
export function setTraceColours(services) {
  traceColours = new Map(services.map((name, i) => [name, PALETTE[i % PALETTE.length]]));
}
export function serviceColour(name) {
  if (traceColours.has(name)) return traceColours.get(name);
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}
export const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
export function kindName(k) {
  if (typeof k === 'number') return KINDS[k] || String(k);
  return String(k || '').toLowerCase().replace('span_kind_', '');
}
export function isErrorStatus(code) {
  return code === 2 || code === 'ERROR' || code === 'STATUS_CODE_ERROR' || code === 'error';
}

// ------------------------------------------------------------------ API access
export class Unauthorized extends Error {}
export async function getJSON(path, params, base = API) {
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
export function exactIntegers(key, value, context) {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
    return context.source;
  }
  return value;
}
export function parseJSON(text, exact) { return exact ? JSON.parse(text, exactIntegers) : JSON.parse(text); }
export function list(body, ...keys) {
  if (Array.isArray(body)) return body;
  for (const key of keys) if (body && Array.isArray(body[key])) return body[key];
  return [];
}
export function attrFilter(text) {
  const t = (text || '').trim();
  if (!t) return [];
  if (!t.includes('=')) throw new Error('an attribute filter is key=value');
  return [t];
}


export function report(err, target) {
  if (err instanceof Unauthorized) { setStatus('token needed', true); return; }
  const message = err && err.message ? err.message : String(err);
  if (target) { target.textContent = message; target.classList.add('error'); }
  setStatus(message, true);
}


export function timeRange(lookbackSelect, fromInput, toInput) {
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

// ------------------------------------------------------------------ OTLP/JSON -> UI records
export function anyValue(v) {
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
export function kvs(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = anyValue(kv.value);
  return out;
}
export function otlpSpans(body) {
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
export function summarise(spans) {
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
export function rfc3339(ns) {
  const b = big(ns);
  const iso = new Date(Number(b / 1000000n)).toISOString(); // ...T10:00:00.123Z
  return `${iso.slice(0, 19)}.${(b % 1000000000n).toString().padStart(9, '0')}Z`;
}


// A span as the UI needs it, from the native API's JSON.
export function normaliseSpan(s) {
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

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function kvTable(attributes) {
  const entries = Object.entries(attributes || {});
  if (!entries.length) return el('p', { class: 'hint' }, 'none');
  const table = el('table', { class: 'kv' });
  for (const [key, value] of entries) table.append(el('tr', null, el('td', null, key), el('td', null, fmtValue(value))));
  return table;
}

export function num(v) {
  const n = typeof v === 'number' ? v : (typeof v === 'string' && v !== '' ? Number(v) : NaN);
  return Number.isFinite(n) ? n : null;
}
export function niceTicks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  const top = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step + 1e-9) * step; v <= top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
export function fmtNumber(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

