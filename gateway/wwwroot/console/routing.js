import { $, h, clear, fmtTime, toast, problemText, signedOut, readSession, api as callApi } from './page-kit.js';
import { t, tn, tv } from './i18n.js';

// The routing rules page (docs/routing.md, docs/integration.md "Routing rules API"): edit the tenant's YAML with
// validation (a refused save lists each problem's line and column, and a click selects that line), try an event
// without executing anything (dry run), and watch recent executions. Plain DOM like the console; it uses the
// console's signed-in session (same origin).
(function () {
  'use strict';

  var REFRESH_EVERY = 5000;
  var session = readSession();
  function api(method, path, body) { return callApi(session, method, path, body); }

  // ------------------------------------------------------------------ the rules
  var saved = null; // the rules in force as last read: { text, hash, version, ... }

  function loadRules() {
    return api('GET', '/api/v1/routing').then(function (r) {
      if (r.status === 403) { signedOut(); return; }
      if (r.status === 404) { saved = null; renderMeta(); return; }
      if (!r.ok) { toast(problemText(r), true); return; }
      saved = r.body;
      $('rules-text').value = saved.text;
      renderMeta();
    });
  }

  function renderMeta() {
    var meta = $('rules-meta');
    if (!saved) { meta.textContent = t('routing.no_rules'); return; }
    meta.textContent = t('routing.meta', { version: saved.version, routes: tn('routing.routes', saved.routes), hash: saved.hash.slice(0, 12),
      source: saved.source === 'file' ? t('routing.source_file') : t('routing.source_api'), time: fmtTime(saved.updatedAt) }) +
      (saved.updatedBy ? t('routing.meta_by', { name: saved.updatedBy }) : '');
    meta.setAttribute('data-hash', saved.hash);
  }

  function showErrors(errors) {
    var box = $('rules-errors');
    var list = $('rules-errors-list');
    clear(list);
    box.hidden = !errors || errors.length === 0;
    (errors || []).forEach(function (e) {
      var where = e.line > 0 ? t('routing.line_column', { line: e.line, column: e.column }) : '';
      list.appendChild(h('li', {
        'data-line': String(e.line), 'data-column': String(e.column), text: where + e.message,
        onclick: function () { selectLine(e.line, e.column); },
      }));
    });
  }

  // Puts the caret where the problem is (and scrolls there), so the line is found without counting.
  function selectLine(line, column) {
    var area = $('rules-text');
    if (!(line > 0)) { area.focus(); return; }
    var lines = area.value.split('\n');
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
    var end = start + (lines[line - 1] || '').length;
    area.focus();
    area.setSelectionRange(Math.min(start + Math.max(column - 1, 0), end), end);
    var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  function showCursor() {
    var area = $('rules-text');
    var before = area.value.slice(0, area.selectionStart).split('\n');
    $('rules-cursor').textContent = t('routing.cursor', { line: before.length, column: before[before.length - 1].length + 1 });
  }

  $('rules-save').addEventListener('click', function () {
    var text = $('rules-text').value;
    api('PUT', '/api/v1/routing', { yaml: text }).then(function (r) {
      if (r.status === 400 && r.body && r.body.code === 'invalid_routing') {
        showErrors(r.body.errors || [{ line: 0, column: 0, message: problemText(r) }]);
        toast(t('routing.has_problems'), true);
        return;
      }
      if (!r.ok) { toast(problemText(r), true); return; }
      showErrors([]);
      toast(r.body.unchanged ? t('routing.unchanged')
        : t('routing.saved', { version: r.body.version, routes: tn('routing.routes', r.body.routes) }));
      loadRules();
    });
  });
  $('rules-reload').addEventListener('click', function () {
    showErrors([]);
    if (saved) { $('rules-text').value = saved.text; } else { loadRules(); }
  });
  ['keyup', 'click', 'focus'].forEach(function (ev) { $('rules-text').addEventListener(ev, showCursor); });
  $('rules-text').addEventListener('keydown', function (ev) {
    // Tab indents (YAML is indentation), instead of leaving the editor.
    if (ev.key !== 'Tab' || ev.shiftKey || ev.ctrlKey || ev.altKey || ev.metaKey) { return; }
    ev.preventDefault();
    var area = ev.target;
    var start = area.selectionStart;
    area.setRangeText('  ', start, area.selectionEnd, 'end');
  });

  // ------------------------------------------------------------------ dry run
  $('dry-run-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var data = {};
    var dataText = form.elements.data.value.trim();
    if (dataText) {
      try { data = JSON.parse(dataText); } catch (e) { toast(t('routing.bad_data'), true); return; }
    }
    var request = {
      event: {
        type: form.elements.type.value.trim(),
        data: data,
        conversationId: form.elements.conversationId.value.trim() || null,
        text: form.elements.text.value || null,
        inbox: form.elements.inbox.value.trim() || null,
      },
    };
    if (form.elements.useEditor.checked) { request.rules = $('rules-text').value; }
    api('POST', '/api/v1/routing/dry-run', request).then(function (r) {
      if (r.status === 400 && r.body && r.body.code === 'invalid_routing') {
        showErrors(r.body.errors || []);
        renderPlan(null, t('routing.editor_problems'));
        return;
      }
      if (!r.ok) { renderPlan(null, problemText(r)); return; }
      renderPlan(r.body);
    });
  });

  function renderPlan(plan, problem) {
    var box = $('dry-run-result');
    clear(box);
    if (!plan) { box.appendChild(h('p', { class: 'error', text: problem })); return; }
    box.appendChild(h('p', { class: 'muted small', text: t('routing.plan_event', { name: plan.event.name, hash: plan.hash.slice(0, 12) }) }));
    if (plan.routes.length === 0) {
      box.appendChild(h('p', { class: 'no-match', text: t('routing.no_match') }));
      return;
    }
    plan.routes.forEach(function (route) {
      var extracted = Object.keys(route.extracted || {}).map(function (k) { return k + ' = ' + route.extracted[k]; });
      var rows = route.steps.map(function (s) {
        var what;
        if (s.action === 'call') {
          what = [h('div', { class: 'mono', text: s.method + ' ' + (s.url || t('routing.url_later')) }),
            s.body !== null && s.body !== undefined ? h('pre', { text: JSON.stringify(s.body, null, 2) }) : null];
        } else if (s.action === 'reply_template') {
          what = [h('div', { class: 'reply', text: s.text !== null && s.text !== undefined ? s.text : t('routing.rendered_later') })];
        } else {
          what = [h('div', { text: s.target || '' })];
        }
        if (s.unresolved && s.unresolved.length) {
          what.push(h('div', { class: 'unresolved small', text: t('routing.unresolved', { names: s.unresolved.join(', ') }) }));
        }
        return h('tr', { 'data-step': String(s.index) }, [
          h('td', { text: String(s.index + 1) }),
          h('td', { text: s.action + (s.action === 'call' && s.target ? ' ' + s.target : '') }),
          h('td', {}, what),
          h('td', { text: tn('routing.attempts', s.attempts) + (s.timeoutMs ? t('routing.timeout_each', { ms: s.timeoutMs }) : '') }),
        ]);
      });
      box.appendChild(h('div', { class: 'route-card', 'data-route': route.id }, [
        h('h4', { text: t('routing.route_title', { id: route.id, priority: route.priority, budget: route.budgetMs }) }),
        extracted.length ? h('p', { class: 'extracted small', text: t('routing.extracted', { values: extracted.join(', ') }) }) : null,
        h('table', { class: 'grid' }, [
          h('thead', {}, [h('tr', {}, [h('th', { text: '#' }), h('th', { text: t('routing.action') }), h('th', { text: t('routing.would_do') }), h('th', { text: t('routing.attempts') })])]),
          h('tbody', {}, rows),
        ]),
      ]));
    });
  }

  // ------------------------------------------------------------------ executions
  function loadExecutions() {
    var query = ['limit=50'];
    var route = $('executions-route').value.trim();
    var outcome = $('executions-outcome').value;
    if (route) { query.push('route=' + encodeURIComponent(route)); }
    if (outcome) { query.push('outcome=' + encodeURIComponent(outcome)); }
    return api('GET', '/api/v1/routing/executions?' + query.join('&')).then(function (r) {
      if (!r.ok) { if (r.status === 403) { signedOut(); } return; }
      renderExecutions(r.body.executions || []);
    });
  }

  function outcome(value) { return tv('routing.outcome', value).replace('_', ' '); }

  function renderExecutions(executions) {
    var body = $('executions-body');
    clear(body);
    $('executions-empty').hidden = executions.length > 0;
    executions.forEach(function (e) {
      var steps = e.steps.map(function (s) {
        return h('div', { class: 'outcome-' + s.outcome }, [
          (s.index + 1) + '. ' + s.action + (s.target ? ' ' + s.target : '') + ': ' + outcome(s.outcome) +
            (s.attempts > 1 ? t('routing.after_attempts', { n: s.attempts }) : '') + (s.httpStatus ? ' (HTTP ' + s.httpStatus + ')' : '') +
            ', ' + t('routing.ms', { n: s.elapsedMs }) + (s.error ? ' — ' + s.error : ''),
        ]);
      });
      body.appendChild(h('tr', { 'data-execution': e.id, 'data-outcome': e.outcome }, [
        h('td', { text: fmtTime(e.time) }),
        h('td', { text: e.routeId }),
        h('td', {}, [h('div', { text: e.triggerType }), h('div', { class: 'muted small mono', text: e.triggerEventId })]),
        h('td', { class: 'outcome outcome-' + e.outcome }, [outcome(e.outcome), e.error ? h('div', { class: 'small', text: e.error }) : null]),
        h('td', { class: 'steps small' }, steps),
        h('td', { text: t('routing.ms_left', { n: e.elapsedMs, left: e.budgetLeftMs }) }),
      ]));
    });
  }

  $('executions-refresh').addEventListener('click', loadExecutions);
  $('executions-outcome').addEventListener('change', loadExecutions);
  $('executions-route').addEventListener('change', loadExecutions);

  if (!session || !session.token) {
    signedOut();
    return;
  }

  $('app').hidden = false;
  loadRules();
  loadExecutions();
  setInterval(function () {
    if (document.hidden || $('app').hidden) { return; }
    loadExecutions();
  }, REFRESH_EVERY);
})();
