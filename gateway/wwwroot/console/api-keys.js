/* Kefu console: the admin page for service API keys (docs/integration.md §7). Its own module beside app.js: it reads
 * the console's session from localStorage, shows itself when its nav button is clicked (app.js hides the other views
 * then), and renders every value with textContent. A new key's text is shown once, in the page only. */
import { t, problem, fmtDateTime } from './i18n.js';

(function () {
  'use strict';

  var STORE = 'kefu.console';
  var SCOPES = ['events:write', 'messages:write', 'conversations:read', 'conversations:write',
    'contacts:read', 'contacts:write', 'events:read', 'webhooks:manage'];
  var $ = function (id) { return document.getElementById(id); };
  var view = $('view-api-keys');
  if (!view) { return; }

  function token() {
    try { return (JSON.parse(localStorage.getItem(STORE) || 'null') || {}).token || null; } catch (e) { return null; }
  }

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    var bearer = token();
    if (bearer) { headers.Authorization = 'Bearer ' + bearer; }
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          return { ok: r.ok, status: r.status, body: json };
        });
      }, function () { return { ok: false, status: 0, body: { detail: t('error.unreachable') } }; });
  }

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function toast(text, isError) {
    var box = $('toast');
    if (!box) { return; }
    box.textContent = text;
    box.className = 'toast' + (isError ? ' error' : '');
    box.hidden = false;
    setTimeout(function () { box.hidden = true; }, isError ? 6000 : 2500);
  }

  function problemText(r) { return problem(r); }

  function when(value) { return fmtDateTime(value); }

  function load() {
    api('GET', '/api/v1/api-keys').then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      render(r.body && r.body.keys ? r.body.keys : []);
    });
  }

  function render(keys) {
    var body = $('api-keys-body');
    while (body.firstChild) { body.removeChild(body.firstChild); }
    keys.forEach(function (k) {
      var tr = el('tr', null, { 'data-key': k.id });
      tr.appendChild(el('td', k.name, { title: k.id }));
      tr.appendChild(el('td', (k.scopes || []).join(', ')));
      tr.appendChild(el('td', (k.inboxes || []).length ? k.inboxes.join(', ') : t('common.all')));
      tr.appendChild(el('td', when(k.createdAt)));
      tr.appendChild(el('td', k.expiresAt ? when(k.expiresAt) : t('apikeys.never_expires')));
      tr.appendChild(el('td', k.lastUsedAt ? when(k.lastUsedAt) : t('apikeys.never_used')));
      var actions = el('td');
      var revoke = el('button', t('apikeys.revoke'), { type: 'button', 'class': 'danger' });
      revoke.addEventListener('click', function () {
        if (!confirm(t('apikeys.confirm_revoke', { name: k.name }))) { return; }
        api('DELETE', '/api/v1/api-keys/' + encodeURIComponent(k.id)).then(function (res) {
          if (res.ok) { toast(t('apikeys.revoked', { name: k.name })); load(); } else { toast(problemText(res), true); }
        });
      });
      actions.appendChild(revoke);
      tr.appendChild(actions);
      body.appendChild(tr);
    });
  }

  var scopes = $('api-key-scopes');
  SCOPES.forEach(function (s) {
    var label = el('label', null, { 'class': 'check' });
    var box = el('input', null, { type: 'checkbox', name: 'scope', value: s });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + s));
    scopes.appendChild(label);
  });

  $('api-key-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    var chosen = Array.prototype.filter.call(f.querySelectorAll('input[name=scope]'), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    var inboxes = f.inboxes.value.split(',').map(function (s) { return s.trim(); }).filter(function (s) { return s; });
    var req = { name: f.name.value.trim(), scopes: chosen };
    if (inboxes.length) { req.inboxes = inboxes; }
    if (f.expiresAt.value) { req.expiresAt = new Date(f.expiresAt.value + 'T00:00:00').toISOString(); }
    api('POST', '/api/v1/api-keys', req).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      $('api-key-secret').textContent = r.body.key;
      $('api-key-created').hidden = false;
      f.reset();
      load();
    });
  });

  // app.js shows and hides the views it knows; this one follows the nav buttons itself.
  Array.prototype.forEach.call(document.querySelectorAll('#nav button'), function (b) {
    b.addEventListener('click', function () {
      var mine = b.getAttribute('data-view') === 'api-keys';
      view.hidden = !mine;
      if (mine) { load(); } else { $('api-key-created').hidden = true; $('api-key-secret').textContent = ''; }
    });
  });
})();
