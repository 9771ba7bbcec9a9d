import { $, h, clear, fmtTime, toast, problemText, signedOut, readSession, api as callApi } from './page-kit.js';
import { t, tv } from './i18n.js';

// The plugins admin page (docs/plugins.md "Upload and manage"): the tenant's WebAssembly plugins with status, revision,
// hash, hooks and last error; upload (module file + manifest), enable/disable, delete, and a Test dialog that runs one
// call and shows its actions, log or failure. Plain DOM like the other admin pages, on the console's session.
(function () {
  'use strict';

  var HOOKS = ['before_message', 'after_message', 'route'];
  var REFRESH_EVERY = 5000;
  // The manifest's documented defaults, written out so an author sees every knob; name comes from the URL.
  var TEMPLATE = JSON.stringify({
    version: '1.0.0',
    description: '',
    hooks: ['before_message'],
    limits: { fuel: 10000000, timeout_ms: 100, memory_mb: 16 },
    wasi: false,
    allowed_hosts: [],
    on_error: 'allow',
    config: {},
  }, null, 2);
  var SAMPLE_INPUT = {
    before_message: { message: { conversation_id: '', inbox: 'default', text: '我的订单 123 到哪了？card 4111 1111 1111 1111', sender: { role: 'visitor', id: 'v-test' } } },
    after_message: { message: { conversation_id: '', inbox: 'default', message_id: '', seq: 1, text: 'Where is my order 123?', sender: { role: 'visitor', id: 'v-test' } } },
    route: { event: { type: 'order_status', data: { order_id: '123' } }, vars: {} },
  };

  var session = readSession();
  function api(method, path, body) { return callApi(session, method, path, body); }

  var plugins = [];
  var testing = null;

  function statusOf(p) {
    var stats = p.stats || {};
    if (!p.enabled) { return { text: t('plugins.disabled'), cls: 'status-disabled' }; }
    if (stats.suspendedUntil && new Date(stats.suspendedUntil) > new Date()) {
      return { text: t('plugins.suspended_until', { time: fmtTime(stats.suspendedUntil) }), cls: 'status-paused' };
    }
    return { text: t('plugins.enabled'), cls: 'status-ok' };
  }

  // The list has no stats (they live in each plugin's grain): one read per plugin, a tenant has at most 50.
  function loadPlugins() {
    return api('GET', '/api/v1/plugins').then(function (r) {
      if (!r.ok) { if (r.status === 403) { signedOut(); } return; }
      var listed = r.body.plugins || [];
      return Promise.all(listed.map(function (p) {
        return api('GET', '/api/v1/plugins/' + encodeURIComponent(p.name)).then(function (one) { return one.ok ? one.body : p; });
      })).then(function (detailed) {
        plugins = detailed;
        renderPlugins();
      });
    });
  }

  function renderPlugins() {
    var body = $('plugins-body');
    clear(body);
    $('plugins-empty').hidden = plugins.length > 0;
    plugins.forEach(function (p) {
      var status = statusOf(p);
      var stats = p.stats || {};
      var m = p.manifest || {};
      var lastError = stats.lastErrorCode
        ? t('plugins.error_at', { code: stats.lastErrorCode, time: fmtTime(stats.lastErrorAt) }) + (stats.lastError ? ': ' + stats.lastError : '')
        : '';
      body.appendChild(h('tr', { 'data-plugin': p.name }, [
        h('td', {}, [
          h('div', { class: 'name', text: p.name + (m.version ? ' ' + m.version : '') }),
          m.description ? h('div', { class: 'muted', text: m.description }) : null,
          p.configKeys && p.configKeys.length ? h('div', { class: 'muted', text: t('plugins.config_keys', { keys: p.configKeys.join(', ') }) }) : null,
        ]),
        h('td', { class: 'status ' + status.cls, text: status.text }),
        h('td', { class: 'revision', text: String(p.revision) }),
        h('td', { class: 'hash', title: p.sha256, text: p.sha256.slice(0, 12) }),
        h('td', { class: 'hooks', text: (m.hooks || []).join(', ') }), // the manifest's own names
        h('td', { class: 'last-error', text: lastError + (stats.calls ? (lastError ? ' · ' : '') + t('plugins.calls', { calls: stats.calls, failures: stats.failures }) : '') }),
        h('td', {}, [h('div', { class: 'actions' }, [
          h('button', { type: 'button', text: t('plugins.test'), onclick: function () { openTest(p); } }),
          h('button', { type: 'button', text: p.enabled ? t('plugins.disable') : t('plugins.enable'), onclick: function () { setEnabled(p, !p.enabled); } }),
          h('button', { type: 'button', text: t('common.delete'), onclick: function () { remove(p); } }),
        ])]),
      ]));
    });
  }

  function setEnabled(p, enabled) {
    api('POST', '/api/v1/plugins/' + encodeURIComponent(p.name) + (enabled ? '/enable' : '/disable')).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(enabled ? t('plugins.enabled_toast') : t('plugins.disabled_toast'));
      loadPlugins();
    });
  }

  function remove(p) {
    if (!confirm(t('plugins.confirm_delete', { name: p.name }))) { return; }
    api('DELETE', '/api/v1/plugins/' + encodeURIComponent(p.name)).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(t('common.deleted'));
      loadPlugins();
    });
  }

  // ---- upload

  $('upload-form').elements.manifest.value = TEMPLATE;
  $('upload-form').elements.module.addEventListener('change', function (ev) {
    var file = ev.target.files && ev.target.files[0];
    var name = $('upload-form').elements.name;
    if (file && !name.value) {
      name.value = file.name.replace(/\.wasm$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63);
    }
  });

  $('upload-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var file = form.elements.module.files[0];
    var name = form.elements.name.value.trim();
    if (!file || !name) { return; }
    var data = new FormData();
    data.append('module', file, file.name);
    data.append('manifest', form.elements.manifest.value);
    api('PUT', '/api/v1/plugins/' + encodeURIComponent(name), data).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(r.status === 201 ? t('plugins.uploaded', { name: name }) : t('plugins.uploaded_revision', { name: name, revision: r.body.revision }));
      form.elements.module.value = '';
      form.elements.name.value = '';
      loadPlugins();
    });
  });

  // ---- test dialog

  function openTest(p) {
    testing = p;
    $('test-name').textContent = p.name;
    var select = $('test-hook');
    clear(select);
    var hooks = (p.manifest && p.manifest.hooks && p.manifest.hooks.length) ? p.manifest.hooks : HOOKS;
    hooks.forEach(function (x) { select.appendChild(h('option', { value: x, text: x + ' — ' + tv('plugins.hook', x) })); });
    fillInput();
    $('test-result').hidden = true;
    if (!$('test-dialog').open) { $('test-dialog').showModal(); }
  }

  function fillInput() {
    $('test-input').value = JSON.stringify(SAMPLE_INPUT[$('test-hook').value] || {}, null, 2);
  }

  $('test-hook').addEventListener('change', fillInput);
  $('test-close').addEventListener('click', function () { $('test-dialog').close(); });

  $('test-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!testing) { return; }
    var input;
    try { input = JSON.parse($('test-input').value || '{}'); } catch (e) { toast(t('plugins.bad_input'), true); return; }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) { toast(t('plugins.bad_input'), true); return; }
    var name = testing.name;
    $('test-run').disabled = true;
    api('POST', '/api/v1/plugins/' + encodeURIComponent(name) + '/test', { hook: $('test-hook').value, input: input }).then(function (r) {
      $('test-run').disabled = false;
      if (!r.ok) { toast(problemText(r), true); return; }
      showResult(r.body);
      loadPlugins();
    });
  });

  function showResult(result) {
    var outcome = $('test-outcome');
    outcome.className = 'outcome ' + (result.ok ? 'outcome-ok' : 'outcome-failed');
    outcome.textContent = result.ok
      ? t('plugins.result_ok', { n: (result.actions || []).length })
      : t('plugins.result_failed', { code: result.errorCode, reason: result.reason || '' });
    $('test-actions').textContent = (result.actions || []).map(function (a) { return JSON.stringify(a); }).join('\n') || t('plugins.no_actions');
    $('test-log').textContent = result.log || '—';
    $('test-meta').textContent = t('plugins.result_meta', { fuel: result.fuelUsed, ms: Number(result.elapsedMs || 0).toFixed(2) });
    $('test-result').hidden = false;
  }

  if (!session || !session.token) {
    signedOut();
    return;
  }

  $('app').hidden = false;
  loadPlugins();
  setInterval(function () {
    if (document.hidden || $('app').hidden || $('test-dialog').open) { return; }
    loadPlugins();
  }, REFRESH_EVERY);
})();
