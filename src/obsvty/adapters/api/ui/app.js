// obsvty web UI: the router and the wiring of every view. Vanilla JS in ES modules served by
// obsvty itself (no build step, nothing from another origin); see common.js for the safety rule.
import { $, TOKEN_KEY, report, setStatus } from './common.js';
import { forgetLogServices, jumpToNewest, logSummary, olderLogs, openRecord, searchLogs, showLogs, watchScroll } from './logs.js';
import { showCompare } from './compare.js';
import { forgetHiddenLines, metricServices, showMetrics, showSeries } from './metrics.js';
import { showMap } from './map.js';
import { showTrace } from './trace.js';
import { compareButton, forgetServices, loadOperations, searchTraces, showTraces } from './traces.js';

// ------------------------------------------------------------------ router
let leaveView = null;
function route() {
  if (leaveView) { leaveView(); leaveView = null; }
  const hash = location.hash || '#/traces';
  const [, view, arg] = /^#\/([a-z]+)\/?(.*)$/.exec(hash) || [null, 'traces', ''];
  for (const section of document.querySelectorAll('.view')) section.hidden = true;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === (view === 'trace' || view === 'compare' ? 'traces' : view));
  }
  setStatus('');
  if (view === 'trace') showTrace(decodeURIComponent(arg));
  else if (view === 'logs') leaveView = showLogs(arg);
  else if (view === 'metrics') showMetrics();
  else if (view === 'map') showMap();
  else if (view === 'compare') showCompare(arg);
  else showTraces(arg);
}

// ------------------------------------------------------------------ wiring
$('trace-search').addEventListener('submit', searchTraces);
compareButton();
$('tr-compare-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const other = $('tr-compare-with').value.trim().toLowerCase();
  const current = decodeURIComponent((/^#\/trace\/(.*)$/.exec(location.hash) || [])[1] || '');
  if (other && current) location.hash = `#/compare/${encodeURIComponent(current)}/${encodeURIComponent(other)}`;
});
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
$('ls-lookback').addEventListener('change', () => {
  const custom = $('ls-lookback').value === 'custom';
  for (const label of document.querySelectorAll('.ls-custom')) label.hidden = !custom;
  if (!custom) searchLogs();
});
for (const label of document.querySelectorAll('.ls-custom')) label.hidden = true;
$('log-results').tBodies[0].addEventListener('click', openRecord);
$('ls-new').addEventListener('click', jumpToNewest);
window.addEventListener('scroll', watchScroll, { passive: true });
$('metric-search').addEventListener('submit', showSeries);
$('ms-name').addEventListener('change', () => { forgetHiddenLines(); metricServices($('ms-name').value); showSeries(); });
for (const id of ['ms-lookback', 'ms-service', 'ms-show']) $(id).addEventListener('change', () => showSeries());
$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('auth-token').value);
  $('auth').hidden = true;
  forgetServices();
  forgetLogServices();
  route();
});
window.addEventListener('hashchange', route);
route();

