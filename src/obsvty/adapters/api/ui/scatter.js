// obsvty web UI: the search results' duration-over-time scatter plot, as Jaeger draws it above its
// trace list: one dot per trace at (start, duration), its size by span count, red when the trace
// holds an error; hovering names it, clicking opens it.
import { big, clear, fmtDuration, fmtTime, niceTicks, svg, traceHref } from './common.js';

const HEIGHT = 170;
const M = { l: 64, r: 18, t: 16, b: 24 };

export function drawScatter(target, traces) {
  clear(target);
  target.hidden = !traces.length;
  if (!traces.length) return;
  const width = Math.max(400, Math.round(target.clientWidth - 16)); // one layout read: 1 unit = 1 px
  let t0 = null;
  let t1 = null;
  for (const t of traces) {
    const s = big(t.start_time_unix_nano);
    if (t0 === null || s < t0) t0 = s;
    if (t1 === null || s > t1) t1 = s;
  }
  const longest = Math.max(1, ...traces.map((t) => Number(t.duration_ns)));
  const ticks = niceTicks(0, longest, 4);
  const top = ticks[ticks.length - 1];
  const mostSpans = Math.max(1, ...traces.map((t) => t.span_count));
  const tSpan = Number(t1 - t0);
  const plotW = width - M.l - M.r;
  const x = (t) => (tSpan ? M.l + 8 + (Number(t - t0) / tSpan) * (plotW - 16) : M.l + plotW / 2);
  const y = (d) => HEIGHT - M.b - (d / top) * (HEIGHT - M.t - M.b);
  const root = svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': 'trace durations over time' });
  for (const v of ticks) {
    root.append(svg('line', { class: 'grid', x1: M.l, x2: width - M.r, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }));
    root.append(svg('text', { x: M.l - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, fmtDuration(v)));
  }
  const longRange = tSpan > 86400e9;
  for (let i = 0; i <= 4; i += 1) {
    if (!tSpan && i !== 2) continue;
    const t = t0 + BigInt(Math.round((tSpan * i) / 4));
    const text = longRange ? fmtTime(t).slice(0, 16) : fmtTime(t).slice(tSpan < 10e9 ? 11 : 0, tSpan < 10e9 ? 23 : 19);
    root.append(svg('text', { x: x(t).toFixed(1), y: HEIGHT - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, text));
  }
  root.append(svg('line', { class: 'axis', x1: M.l, x2: M.l, y1: M.t, y2: HEIGHT - M.b }));
  root.append(svg('line', { class: 'axis', x1: M.l, x2: width - M.r, y1: HEIGHT - M.b, y2: HEIGHT - M.b }));
  // the longest last: short traces' dots stay on top of long ones' and clickable
  const order = [...traces].sort((a, b) => Number(b.duration_ns) - Number(a.duration_ns));
  for (const t of order) {
    const href = traceHref(t.trace_id);
    if (!href) continue;
    const errors = Number(t.error_count || 0) > 0;
    const dot = svg('circle', {
      class: errors ? 'dot error' : 'dot',
      cx: x(big(t.start_time_unix_nano)).toFixed(1),
      cy: y(Number(t.duration_ns)).toFixed(1),
      r: (3.5 + 6 * Math.sqrt(t.span_count / mostSpans)).toFixed(1),
    });
    dot.dataset.traceId = t.trace_id;
    dot.append(svg('title', null, `${t.root_service}: ${t.root_name}\n${fmtDuration(t.duration_ns)} · ` +
      `${t.span_count} spans${errors ? ` · ${t.error_count} errors` : ''}\n${fmtTime(t.start_time_unix_nano)}`));
    dot.addEventListener('click', () => { location.hash = href; });
    root.append(dot);
  }
  target.append(root);
}
