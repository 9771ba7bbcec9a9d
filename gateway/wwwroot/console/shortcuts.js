/* Kefu console keyboard shortcuts (issue #18): next/previous conversation, resolve, reply/note, focus the composer,
 * a conversation switcher and a help overlay on "?". They act through the console's own buttons and list (what a
 * click would do), so they never disagree with the page. One-key shortcuts never fire while the agent types in a
 * field; the ones with a modifier (listed with `typing: true`) are meant to work from the composer too. The modifier
 * ones avoid what Chromium keeps for itself (Ctrl+Shift+R reloads, Alt+E/F open its menu on Windows). */
import { t } from './i18n.js';

var MAC = /Mac|iPhone|iPad/.test((navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || '');
var MOD = MAC ? '⌘' : 'Ctrl';

/** The shortcuts, in the order the help lists them. keys: how the help shows them. */
export var SHORTCUTS = [
  { id: 'next', keys: ['Alt+↓', 'J'], typing: true },
  { id: 'previous', keys: ['Alt+↑', 'K'], typing: true },
  { id: 'switcher', keys: [MOD + '+K'], typing: true },
  { id: 'resolve', keys: [MOD + '+Shift+E'], typing: true },
  { id: 'note', keys: ['Alt+N'], typing: true },
  { id: 'focus', keys: ['R'], typing: false },
  { id: 'blur', keys: ['Esc'], typing: true },
  { id: 'help', keys: ['?'], typing: false }
];

function isTyping(target) {
  if (!target || target === document.body) { return false; }
  var tag = (target.tagName || '').toLowerCase();
  // The emoji panel has keys of its own (arrows, Home/End): letters there are not shortcuts either.
  return tag === 'input' || tag === 'textarea' || tag === 'select' || target.isContentEditable ||
    !!(target.closest && target.closest('.emoji-panel'));
}

function el(tag, props, children) {
  var e = document.createElement(tag);
  Object.keys(props || {}).forEach(function (k) {
    var v = props[k];
    if (v === null || v === undefined || v === false) { return; }
    if (k === 'text') { e.textContent = v; } else if (k === 'class') { e.className = v; } else { e.setAttribute(k, v === true ? '' : v); }
  });
  (children || []).forEach(function (c) { if (c) { e.appendChild(c); } });
  return e;
}

/**
 * Installs the shortcuts. o.open(id): opens a conversation; o.conversations(): [{id, name, preview, status}] for the
 * switcher (every conversation the console knows, not only the listed ones).
 */
export function installShortcuts(o) {
  var $ = function (id) { return document.getElementById(id); };
  var overlay = null; // the open dialog (help or switcher): {el, close}

  function inConversations() { return !$('app').hidden && !$('view-conversations').hidden; }
  function chatOpen() { return inConversations() && !$('chat-main').hidden; }

  // ---------------------------------------------------------------- actions
  function move(step) {
    if (!inConversations()) { return false; }
    var items = Array.prototype.slice.call(document.querySelectorAll('#conversation-list li.conv'));
    if (!items.length) { return false; }
    var at = items.findIndex(function (li) { return li.classList.contains('active'); });
    var next = at < 0 ? (step > 0 ? 0 : items.length - 1) : at + step;
    if (next < 0 || next >= items.length) { return true; } // at either end: stay
    items[next].click();
    items[next].scrollIntoView({ block: 'nearest' });
    return true;
  }
  function click(id) {
    var b = $(id);
    if (!b || b.hidden || b.disabled) { return false; }
    b.click();
    return true;
  }
  function resolve() { return chatOpen() && click('resolve-button'); }
  function toggleNote() {
    if (!chatOpen()) { return false; }
    return click($('mode-note').classList.contains('active') ? 'mode-reply' : 'mode-note');
  }
  function focusComposer() {
    if (!chatOpen()) { return false; }
    $('composer-input').focus();
    return true;
  }

  // ---------------------------------------------------------------- dialogs
  function openDialog(className, title, body, onClose) {
    closeDialog();
    var previous = document.activeElement;
    var box = el('div', { class: 'kbd-dialog ' + className, role: 'dialog', 'aria-modal': 'true', 'aria-label': title }, [
      el('h2', { text: title })].concat(body));
    var back = el('div', { class: 'kbd-backdrop' }, [box]);
    back.addEventListener('mousedown', function (e) { if (e.target === back) { closeDialog(); } });
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeDialog(); }
    });
    document.body.appendChild(back);
    overlay = { el: back, close: function () {
      back.remove();
      if (onClose) { onClose(); }
      if (previous && previous.focus && document.contains(previous)) { previous.focus(); }
    } };
    return box;
  }
  function closeDialog() {
    if (!overlay) { return false; }
    var o2 = overlay;
    overlay = null;
    o2.close();
    return true;
  }

  function showHelp() {
    var rows = SHORTCUTS.map(function (s) {
      var keys = el('td', { class: 'keys' });
      s.keys.forEach(function (k, i) {
        if (i) { keys.appendChild(document.createTextNode(' ' + t('shortcuts.or') + ' ')); }
        keys.appendChild(el('kbd', { text: k }));
      });
      return el('tr', { 'data-shortcut': s.id }, [keys, el('td', { text: t('shortcuts.' + s.id) })]);
    });
    var close = el('button', { type: 'button', class: 'ghost kbd-close', text: t('shortcuts.close') });
    close.addEventListener('click', closeDialog);
    var box = openDialog('kbd-help', t('shortcuts.title'), [
      el('table', { class: 'kbd-table' }, [el('tbody', null, rows)]),
      el('p', { class: 'muted small', text: t('shortcuts.typingHint') }), close]);
    box.setAttribute('id', 'shortcut-help');
    close.focus();
  }

  function showSwitcher() {
    if ($('app').hidden) { return; }
    var input = el('input', { type: 'search', class: 'kbd-filter', 'aria-label': t('shortcuts.switcherFilter'),
      placeholder: t('shortcuts.switcherFilter'), autocomplete: 'off', role: 'combobox', 'aria-expanded': 'true', 'aria-controls': 'switcher-list' });
    var list = el('ul', { class: 'kbd-list', id: 'switcher-list', role: 'listbox', 'aria-label': t('shortcuts.switcher') });
    var empty = el('p', { class: 'muted small', text: t('shortcuts.switcherEmpty'), hidden: true });
    var shown = [], index = 0;
    function render() {
      var q = input.value.trim().toLowerCase();
      shown = o.conversations().filter(function (c) {
        return !q || String(c.name || '').toLowerCase().indexOf(q) >= 0 || String(c.id).toLowerCase().indexOf(q) >= 0;
      }).slice(0, 20);
      index = Math.min(index, Math.max(0, shown.length - 1));
      while (list.firstChild) { list.removeChild(list.firstChild); }
      shown.forEach(function (c, i) {
        var li = el('li', { role: 'option', id: 'switcher-' + i, 'data-id': c.id, class: i === index ? 'active' : null, 'aria-selected': String(i === index) }, [
          el('span', { class: 'kbd-name', text: c.name || c.id }),
          el('span', { class: 'muted small', text: ' ' + (c.status || '') + ' · …' + String(c.id).slice(-6) })]);
        li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(c); });
        list.appendChild(li);
      });
      input.setAttribute('aria-activedescendant', shown.length ? 'switcher-' + index : '');
      empty.hidden = shown.length > 0;
    }
    function choose(c) { closeDialog(); o.open(c.id); }
    input.addEventListener('input', function () { index = 0; render(); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (!shown.length) { return; }
        index = (index + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
        render();
        var active = list.children[index];
        if (active) { active.scrollIntoView({ block: 'nearest' }); }
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (shown[index]) { choose(shown[index]); }
      }
    });
    var box = openDialog('kbd-switcher', t('shortcuts.switcher'), [input, list, empty]);
    box.setAttribute('id', 'conversation-switcher');
    render();
    input.focus();
  }

  // ---------------------------------------------------------------- keys
  document.addEventListener('keydown', function (e) {
    if ($('app').hidden || e.defaultPrevented || e.isComposing) { return; }
    var mod = MAC ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
    var done = false;
    if (mod && !e.altKey && !e.shiftKey && e.code === 'KeyK') {
      if (overlay && document.getElementById('conversation-switcher')) { closeDialog(); } else { showSwitcher(); }
      done = true;
    } else if (overlay) {
      return; // a dialog has the keyboard (its own keys, Escape closes it)
    } else if (mod && e.shiftKey && !e.altKey && e.code === 'KeyE') {
      done = resolve();
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      done = move(e.key === 'ArrowDown' ? 1 : -1);
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.code === 'KeyN') {
      done = toggleNote();
    } else if (!e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
      if (e.key === '?') { showHelp(); done = true; }
      else if (e.shiftKey) { return; }
      else if (e.key === 'j' || e.key === 'J') { done = move(1); }
      else if (e.key === 'k' || e.key === 'K') { done = move(-1); }
      else if (e.key === 'r' || e.key === 'R') { done = focusComposer(); }
    }
    if (done) { e.preventDefault(); }
  });

  return { showHelp: showHelp, showSwitcher: showSwitcher, close: closeDialog };
}
