/* Kefu console: conversation search (docs/search.md). Its own module beside app.js: a search box above the conversation
 * list that calls GET /api/v1/conversations/search with the console's session and lists the matching conversations with
 * their snippets (textContent only). Choosing a result asks app.js to open it (event 'kefu:open-conversation'). Chinese
 * and Japanese need no spaces: the server indexes characters and character pairs. */
import { t, tv, problem, fmtDateTime } from './i18n.js';

(function () {
  'use strict';

  var STORE = 'kefu.console';
  var $ = function (id) { return document.getElementById(id); };
  var form = $('search-form');
  if (!form) { return; }
  var input = $('search-input');
  var panel = $('search-panel');
  var list = $('search-results');
  var status = $('search-status');
  var more = $('search-more');
  var last = { q: '', next: null };

  function token() {
    try { return (JSON.parse(localStorage.getItem(STORE) || 'null') || {}).token || null; } catch (e) { return null; }
  }

  function get(path) {
    var headers = { Accept: 'application/json' };
    var bearer = token();
    if (bearer) { headers.Authorization = 'Bearer ' + bearer; }
    return fetch(path, { headers: headers }).then(function (r) {
      return r.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { ok: r.ok, status: r.status, body: json };
      });
    }, function () { return { ok: false, status: 0, body: { detail: t('error.unreachable') } }; });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function open(id) {
    document.dispatchEvent(new CustomEvent('kefu:open-conversation', { detail: { conversationId: id } }));
  }

  function render(results, append) {
    if (!append) { list.textContent = ''; }
    results.forEach(function (r) {
      var li = el('li', 'conv search-result');
      li.setAttribute('data-id', r.conversationId);
      li.setAttribute('tabindex', '0');
      li.setAttribute('role', 'button');
      var top = el('div', 'conv-top');
      top.appendChild(el('span', 'conv-name', r.visitorName || t('visitor.anonymous', { id: (r.visitorId || '').slice(-6) })));
      li.appendChild(top);
      (r.hits || []).forEach(function (hit) {
        var line = el('div', 'conv-preview search-snippet' + (hit.kind === 'note' ? ' search-note' : ''));
        if (hit.kind === 'note') { line.appendChild(el('span', 'pill', t('search.note'))); line.appendChild(document.createTextNode(' ')); }
        line.appendChild(document.createTextNode(hit.snippet));
        li.appendChild(line);
      });
      var meta = el('div', 'conv-meta');
      meta.appendChild(el('span', 'pill status-' + r.status, tv('status', r.status)));
      (r.tags || []).forEach(function (tag) { meta.appendChild(el('span', 'pill', tag)); });
      meta.appendChild(el('span', 'muted small right', fmtDateTime(r.lastHitAt)));
      li.appendChild(meta);
      li.addEventListener('click', function () { open(r.conversationId); });
      li.addEventListener('keydown', function (e) { if (e.key === 'Enter') { open(r.conversationId); } });
      list.appendChild(li);
    });
  }

  function run(append) {
    var q = append ? last.q : input.value.trim();
    if (!q) { clearSearch(); return; }
    var path = '/api/v1/conversations/search?limit=20&q=' + encodeURIComponent(q) + (append && last.next ? '&cursor=' + encodeURIComponent(last.next) : '');
    panel.hidden = false;
    status.textContent = t('search.searching');
    get(path).then(function (r) {
      if (!r.ok) { status.textContent = problem(r); if (!append) { list.textContent = ''; } more.hidden = true; return; }
      last = { q: q, next: r.body.next || null };
      render(r.body.results || [], append);
      var count = list.children.length;
      status.textContent = count === 0 ? t('search.none', { q: q }) : t('search.found', { n: count, q: q });
      more.hidden = !last.next;
    });
  }

  function clearSearch() {
    input.value = '';
    list.textContent = '';
    status.textContent = '';
    panel.hidden = true;
    last = { q: '', next: null };
  }

  form.addEventListener('submit', function (e) { e.preventDefault(); run(false); });
  more.addEventListener('click', function () { run(true); });
  $('search-clear').addEventListener('click', clearSearch);
  input.addEventListener('keydown', function (e) { if (e.key === 'Escape') { clearSearch(); } });
})();
