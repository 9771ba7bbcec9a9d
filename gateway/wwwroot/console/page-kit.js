// What the console's admin pages (webhooks.html, routing.html) share: the signed-in session (the console's, same
// origin), a small DOM builder, the toast, and the API call that turns every answer — problem details, a 401, no
// server at all — into { ok, status, body }. An ES module: the pages import it, no build step.
import { t, problem, fmtDateTime, applyTranslations } from './i18n.js';

var STORE = 'kefu.console';

export function $(id) { return document.getElementById(id); }

/** The console's session ({ token, … }) or null when nobody is signed in. */
export function readSession() {
  try { return JSON.parse(localStorage.getItem(STORE) || 'null'); } catch (e) { return null; }
}

export function h(tag, props, children) {
  var el = document.createElement(tag);
  Object.keys(props || {}).forEach(function (k) {
    var v = props[k];
    if (v === null || v === undefined || v === false) { return; }
    if (k === 'text') { el.textContent = v; }
    else if (k === 'class') { el.className = v; }
    else if (k.slice(0, 2) === 'on') { el.addEventListener(k.slice(2), v); }
    else { el.setAttribute(k, v === true ? '' : v); }
  });
  (children || []).forEach(function (c) { if (c) { el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
  return el;
}

export function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }

/** A date and time in the agent's language and time zone (i18n.js); '—' when there is none. */
export function fmtTime(ts) { return fmtDateTime(ts); }

var toastTimer = null;
export function toast(text, isError) {
  var el = $('toast');
  el.textContent = text;
  el.className = 'toast' + (isError ? ' error' : '');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { el.hidden = true; }, isError ? 6000 : 2500);
}

export function problemText(r) { return problem(r); }

/** Shows the page's "signed out" panel instead of its content. */
export function signedOut() { $('app').hidden = true; $('signed-out').hidden = false; }

/**
 * Calls the API as the session's user. body: an object (sent as JSON), { yaml: text } (sent as the YAML it is) or a
 * FormData (multipart).
 * Resolves to { ok, status, body } — never rejects; a 401 also shows the signed-out panel.
 */
export function api(session, method, path, body) {
  var headers = { Accept: 'application/json', Authorization: 'Bearer ' + session.token };
  var payload;
  // FormData (a file upload): sent as multipart/form-data, whose boundary the browser writes into Content-Type itself.
  if (typeof FormData !== 'undefined' && body instanceof FormData) { payload = body; }
  else if (body && typeof body.yaml === 'string') { headers['Content-Type'] = 'application/yaml; charset=utf-8'; payload = body.yaml; }
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  return fetch(path, { method: method, headers: headers, body: payload })
    .then(function (r) {
      return r.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (r.status === 401) { signedOut(); }
        return { ok: r.ok, status: r.status, body: json };
      });
    }, function () { return { ok: false, status: 0, body: { detail: t('error.unreachable') } }; });
}

// The page's static texts (data-i18n attributes) in the language the console last used in this browser: the signed-in
// agent's preference, remembered by i18n.js. Runs when the page's module imports this one, before the page shows.
if (typeof document !== 'undefined') { applyTranslations(document); }
