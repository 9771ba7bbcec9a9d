import { $, h, clear, toast, problemText, signedOut, readSession, api as callApi } from './page-kit.js';
import { t, fmtNumber, fmtDuration } from './i18n.js';

// The Reports page (docs/reports.md): a range of days in a UTC offset, a grouping, summary tiles, two charts drawn as
// inline SVG (no chart library, nothing from a CDN), a table per group and a CSV download of the same numbers. The
// last day in the form is inclusive; the API's range is [from, to), so one day is added when asking.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var session = readSession();
  var last = null;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function iso(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
  function addDays(text, n) { var d = new Date(text + 'T12:00:00'); d.setDate(d.getDate() + n); return iso(d); }

  /** The browser's UTC offset as ±HH:MM. */
  function browserOffset() {
    var minutes = -new Date().getTimezoneOffset();
    var sign = minutes < 0 ? '-' : '+';
    minutes = Math.abs(minutes);
    return sign + pad(Math.floor(minutes / 60)) + ':' + pad(minutes % 60);
  }

  function query() {
    var p = new URLSearchParams();
    p.set('from', $('from').value);
    p.set('to', addDays($('to').value, 1));
    p.set('tz', $('tz').value.trim() || 'Z');
    p.set('groupBy', $('group-by').value);
    if ($('filter-inbox').value.trim()) { p.set('inbox', $('filter-inbox').value.trim()); }
    return p.toString();
  }

  function svg(tag, attrs, children) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return el;
  }

  function durations(d) { return d.count ? fmtDuration(d.medianSeconds) + ' / ' + fmtDuration(d.p90Seconds) : '—'; }
  function csatText(c) { return c.count ? fmtNumber(c.average, 2) + ' (' + fmtNumber(c.count) + ')' : '—'; }

  /** Bars: conversations per day; line: open at each day's end. */
  function drawDays(days) {
    var box = $('chart-days');
    clear(box);
    var W = 640, H = 200, L = 34, B = 24, T = 8;
    var max = Math.max(1, Math.max.apply(null, days.map(function (d) { return Math.max(d.conversations, d.backlog); })));
    var step = (W - L) / Math.max(1, days.length);
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': t('reports.per_day') });
    chart.appendChild(svg('text', { x: 0, y: T + 8 }, [fmtNumber(max)]));
    chart.appendChild(svg('text', { x: 0, y: H - B }, ['0']));
    var points = [];
    var label = Math.ceil(days.length / 10);
    days.forEach(function (d, i) {
      var x = L + i * step;
      var bar = svg('rect', { class: 'bar', x: x + step * 0.15, y: y(d.conversations), width: Math.max(1, step * 0.7), height: (H - B) - y(d.conversations), 'data-date': d.date, 'data-count': d.conversations });
      bar.appendChild(svg('title', {}, [d.date + ': ' + d.conversations + ' · ' + t('reports.backlog') + ' ' + d.backlog]));
      chart.appendChild(bar);
      points.push((x + step / 2).toFixed(1) + ',' + y(d.backlog).toFixed(1));
      if (i % label === 0) { chart.appendChild(svg('text', { x: x + 2, y: H - 8 }, [d.date.slice(5)])); }
    });
    chart.appendChild(svg('polyline', { class: 'line', points: points.join(' ') }));
    box.appendChild(chart);
  }

  function drawCsat(distribution) {
    var box = $('chart-csat');
    clear(box);
    var W = 260, H = 200, B = 24, T = 14;
    var max = Math.max(1, Math.max.apply(null, distribution));
    var step = W / 5;
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': t('reports.csat_distribution') });
    distribution.forEach(function (n, i) {
      var height = (H - T - B) * n / max;
      chart.appendChild(svg('rect', { class: 'bar csat', x: i * step + step * 0.15, y: H - B - height, width: step * 0.7, height: height, 'data-rating': i + 1, 'data-count': n }));
      chart.appendChild(svg('text', { x: i * step + step * 0.42, y: H - 8 }, [String(i + 1) + '★']));
      chart.appendChild(svg('text', { x: i * step + step * 0.42, y: H - B - height - 3 }, [fmtNumber(n)]));
    });
    box.appendChild(chart);
  }

  function groupLabel(key) { return key === '' ? t('reports.no_group') : key; }

  function render(report) {
    var s = report.totals;
    $('tile-conversations').textContent = fmtNumber(s.conversations);
    $('tile-resolved').textContent = fmtNumber(s.resolved);
    $('tile-backlog').textContent = fmtNumber(s.backlog);
    $('tile-frt').textContent = durations(s.firstResponse);
    $('tile-resolution').textContent = durations(s.resolution);
    $('tile-csat').textContent = csatText(s.csat);
    drawDays(report.days);
    drawCsat(s.csat.distribution);
    $('group-heading').textContent = t('reports.by_' + report.groupBy);
    var body = $('groups-body');
    clear(body);
    report.groups.forEach(function (g) {
      body.appendChild(h('tr', { 'data-key': g.key }, [
        h('td', { text: groupLabel(g.key) }), h('td', { text: fmtNumber(g.conversations) }), h('td', { text: fmtNumber(g.resolved) }),
        h('td', { text: fmtDuration(g.firstResponse.medianSeconds) }), h('td', { text: fmtDuration(g.firstResponse.p90Seconds) }),
        h('td', { text: fmtDuration(g.resolution.medianSeconds) }), h('td', { text: fmtDuration(g.resolution.p90Seconds) }),
        h('td', { text: csatText(g.csat) }), h('td', { text: fmtNumber(g.backlog) }),
      ]));
    });
    $('groups-empty').hidden = report.groups.length > 0;
  }

  function showError(r) {
    $('range-error').textContent = problemText(r);
    $('range-error').hidden = false;
  }

  function load() {
    $('range-error').hidden = true;
    callApi(session, 'GET', '/api/v1/reports/overview?' + query()).then(function (r) {
      if (!r.ok) { showError(r); return; }
      last = r.body;
      render(r.body);
    });
  }

  // The CSV is fetched with the session's token (a plain link could not send it) and handed to the browser as a file.
  function download() {
    fetch('/api/v1/reports/overview.csv?' + query(), { headers: { Authorization: 'Bearer ' + session.token } }).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (body) { showError({ ok: false, status: r.status, body: body }); }, function () { toast(t('error.unreachable'), true); });
      }
      return r.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = h('a', { href: url, download: 'kefu-report-' + $('from').value + '-' + $('to').value + '.csv' });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    }, function () { toast(t('error.unreachable'), true); });
  }

  if (!session || !session.token) {
    signedOut();
    return;
  }

  var today = iso(new Date());
  $('to').value = today;
  $('from').value = addDays(today, -6);
  $('tz').value = browserOffset();
  $('range-form').addEventListener('submit', function (e) { e.preventDefault(); load(); });
  $('group-by').addEventListener('change', load);
  $('csv').addEventListener('click', download);
  $('app').hidden = false;
  load();
  window.kefuReport = function () { return last; }; // what the page shows, for tests and the curious
})();
