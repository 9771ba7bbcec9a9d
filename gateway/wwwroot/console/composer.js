/* Kefu console composer extras (issue #18): the emoji picker and pasting or dropping images (../composer-kit.js, shared
 * with the widget), and canned replies with variables and search by content. app.js keeps the composer itself; it
 * calls installComposer() once, fillCanned() when a canned reply is used and matchCanned() for the suggestion list.
 * Everything is text: variables are filled as plain text into the box, never evaluated or rendered as HTML. */
import { t } from './i18n.js';
import { createEmojiPicker, enableFilePaste } from '../composer-kit.js';

/** The variables a canned reply may use; any other {{name}} is left empty. */
export var CANNED_VARIABLES = ['contact.name', 'contact.email', 'agent.name', 'conversation.id'];

/**
 * A canned reply's text with {{variable}} filled from vars ({'contact.name': 'Ann', …}). Unknown or missing values are
 * left empty (a reply never goes out with "{{contact.name}}" in it), and a value is only ever text.
 */
export function fillCanned(text, vars) {
  vars = vars || {};
  // Whatever is between {{ and }} on one line names a variable: a known one is filled, anything else leaves nothing.
  return String(text || '').replace(/\{\{\s*([^{}\n]{0,64}?)\s*\}\}/g, function (m, name) {
    if (CANNED_VARIABLES.indexOf(name) < 0 || !Object.prototype.hasOwnProperty.call(vars, name)) { return ''; }
    var v = vars[name];
    return v === null || v === undefined ? '' : String(v);
  });
}

/**
 * The canned replies matching what follows "/" in the composer, best first: shortcuts starting with it, then
 * shortcuts containing it, then replies whose text (or shortcut) contains every word of it. At most max (default 8).
 */
export function matchCanned(list, query, max) {
  var q = String(query || '').trim().toLowerCase();
  var words = q.split(/\s+/).filter(Boolean);
  return (list || []).map(function (c, i) {
    var s = String(c.shortcut || '').toLowerCase();
    var x = String(c.text || '').toLowerCase();
    var score = !q ? 1 : s.indexOf(q) === 0 ? 4 : s.indexOf(q) >= 0 ? 3
      : words.every(function (w) { return x.indexOf(w) >= 0 || s.indexOf(w) >= 0; }) ? 2 : 0;
    return { c: c, score: score, i: i };
  }).filter(function (m) { return m.score > 0; })
    .sort(function (a, b) { return b.score - a.score || a.i - b.i; })
    .slice(0, max || 8)
    .map(function (m) { return m.c; });
}

/** Adds the emoji button and the paste/drop of images to the console's composer. */
export function installComposer() {
  var $ = function (id) { return document.getElementById(id); };
  var input = $('composer-input');
  var form = $('composer');
  var row = form.querySelector('.composer-row');
  var label = function (key, vars) { return t('composer.' + key, vars); };
  var picker = createEmojiPicker({ input: input, t: label });
  row.insertBefore(picker.button, input);
  form.appendChild(picker.panel);
  var previews = document.createElement('div');
  previews.className = 'paste-previews';
  form.insertBefore(previews, row);
  // Internal notes carry no files: an image pasted while writing one must not go to the visitor as a reply.
  var noteMode = function () { return form.classList.contains('note-mode'); };
  enableFilePaste({ input: input, zone: $('chat-main'), fileInput: $('attach-input'), busy: $('attach-button'), previewHost: previews, t: label,
    canUpload: function () { return !noteMode(); },
    onRefused: function () {
      var note = document.createElement('div');
      note.className = 'paste-error error small';
      note.setAttribute('role', 'alert');
      note.textContent = t('composer.paste.notInNotes');
      previews.appendChild(note);
      setTimeout(function () { note.remove(); }, 6000);
    } });
  // A file dropped anywhere else would make the browser leave the console to show it.
  ['dragover', 'drop'].forEach(function (type) {
    window.addEventListener(type, function (e) {
      if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0) { e.preventDefault(); }
    });
  });
  // Escape in the composer with nothing open (no suggestions) leaves it, so one-key shortcuts (J, K, ?) work again.
  form.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && e.target === input && $('canned-suggestions').hidden) { setTimeout(function () { input.blur(); }, 0); }
  }, true);
  return { picker: picker };
}
