/*! Kefu composer kit: the emoji picker, inserting at the caret, and pasting or dropping images into the composer,
 * shared by the visitor widget (loaded next to kefu-client.js with a dynamic import(), so embedding stays one script
 * tag) and the agent console (console/composer.js). A plain ES module, no build step, no network: the emoji are
 * characters in this file. Pasted and dropped files go through the page's own file input (its `change` handler is the
 * upload the paperclip button already does: the same limits, the same messages when the server refuses a file).
 * Every label reaches the DOM through textContent or an attribute, never as HTML. */

/** A small built-in set, grouped. Group names are looked up with t('emoji.' + group) by the caller's strings. */
export const EMOJI = [
  { group: 'smileys', items: ['😀', '😃', '😄', '😁', '😊', '🙂', '😉', '😍', '😘', '😅', '😂', '🤣', '🤔', '😮', '😢', '😭', '😡', '😎', '😴', '🤗'] },
  { group: 'gestures', items: ['👍', '👎', '👌', '👏', '🙏', '🙌', '👋', '🤝', '💪', '✌️', '🤞', '👀'] },
  { group: 'symbols', items: ['❤️', '💔', '⭐', '🔥', '✅', '❌', '⚠️', '❓', '❗', '💯', '🎉', '✨'] },
  { group: 'objects', items: ['📦', '🚚', '💳', '🧾', '📱', '💻', '📧', '📞', '🕒', '📅', '🔒', '🎁'] }
];

const COLUMNS = 8;

/** Inserts text at the caret (replacing a selection) of a textarea or input, and tells the page it changed. */
export function insertAtCaret(input, text) {
  const start = typeof input.selectionStart === 'number' ? input.selectionStart : input.value.length;
  const end = typeof input.selectionEnd === 'number' ? input.selectionEnd : start;
  input.focus();
  input.setRangeText(text, start, end, 'end');
  // The page's own input handlers (typing indicator, canned suggestions) see it like typed text.
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function el(doc, tag, attrs, children) {
  const e = doc.createElement(tag);
  Object.keys(attrs || {}).forEach(k => {
    const v = attrs[k];
    if (v === null || v === undefined || v === false) { return; }
    if (k === 'text') { e.textContent = v; } else if (k === 'class') { e.className = v; } else { e.setAttribute(k, v === true ? '' : v); }
  });
  (children || []).forEach(c => { if (c) { e.appendChild(c); } });
  return e;
}

/**
 * An emoji button and its panel (a dialog of grouped buttons). o.input: the textarea emoji go into; o.t(key): labels
 * ('emoji.open', 'emoji.title', 'emoji.smileys', …); o.doc: the document (default this page's). The caller places
 * button and panel. Keyboard: the button opens it on Enter/Space and focuses the first emoji; arrows move (8 a row),
 * Home/End, Enter/Space insert at the caret and close, Escape closes back to the button.
 */
export function createEmojiPicker(o) {
  const doc = o.doc || document;
  const t = o.t;
  const button = el(doc, 'button', { type: 'button', class: 'emoji-button', 'aria-label': t('emoji.open'), title: t('emoji.open'),
    'aria-haspopup': 'dialog', 'aria-expanded': 'false', text: '🙂' });
  const panel = el(doc, 'div', { class: 'emoji-panel', role: 'dialog', 'aria-label': t('emoji.title'), hidden: true });
  const all = [];
  EMOJI.forEach(g => {
    const id = 'emoji-group-' + g.group + '-' + Math.random().toString(36).slice(2, 8);
    const grid = el(doc, 'div', { class: 'emoji-grid', role: 'group', 'aria-labelledby': id });
    g.items.forEach(ch => {
      const b = el(doc, 'button', { type: 'button', class: 'emoji', 'data-emoji': ch, 'aria-label': ch, tabindex: '-1', text: ch });
      b.addEventListener('click', () => { choose(ch); });
      grid.appendChild(b);
      all.push(b);
    });
    panel.appendChild(el(doc, 'div', { class: 'emoji-group', 'data-group': g.group }, [
      el(doc, 'div', { class: 'emoji-group-name', id: id, text: t('emoji.' + g.group) }), grid]));
  });
  if (all.length) { all[0].tabIndex = 0; }

  function isOpen() { return !panel.hidden; }
  function open() {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    focusAt(0);
  }
  function close(refocus) {
    if (!isOpen()) { return; }
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (refocus) { button.focus(); }
  }
  function focusAt(i) {
    i = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((b, j) => { b.tabIndex = j === i ? 0 : -1; });
    all[i].focus();
  }
  function choose(ch) {
    close(false);
    insertAtCaret(o.input, ch);
    if (o.onInsert) { o.onInsert(ch); }
  }

  button.addEventListener('click', () => { if (isOpen()) { close(true); } else { open(); } });
  panel.addEventListener('keydown', e => {
    const i = all.indexOf(e.target);
    let next = null;
    switch (e.key) {
      case 'ArrowRight': next = i + 1; break;
      case 'ArrowLeft': next = i - 1; break;
      case 'ArrowDown': next = i + COLUMNS; break;
      case 'ArrowUp': next = i - COLUMNS; break;
      case 'Home': next = 0; break;
      case 'End': next = all.length - 1; break;
      case 'Escape': e.preventDefault(); e.stopPropagation(); close(true); return;
      default: return;
    }
    e.preventDefault();
    if (i >= 0 || next === 0 || next === all.length - 1) { focusAt(next); }
  });
  // A click or focus anywhere else closes it (composedPath: inside a shadow root too).
  doc.addEventListener('mousedown', e => {
    if (!isOpen()) { return; }
    const path = e.composedPath ? e.composedPath() : [];
    if (path.indexOf(panel) < 0 && path.indexOf(button) < 0) { close(false); }
  }, true);
  panel.addEventListener('focusout', e => {
    if (isOpen() && e.relatedTarget && !panel.contains(e.relatedTarget) && e.relatedTarget !== button) { close(false); }
  });
  return { button, panel, open, close, isOpen };
}

/** Files of a paste or drop. A paste that also carries text (a copy from a document) pastes the text, as usual. */
function filesOf(data, paste) {
  if (!data) { return []; }
  const files = [];
  if (data.files && data.files.length) { for (let i = 0; i < data.files.length; i++) { files.push(data.files[i]); } }
  else if (data.items) {
    for (let i = 0; i < data.items.length; i++) {
      const f = data.items[i].kind === 'file' ? data.items[i].getAsFile() : null;
      if (f) { files.push(f); }
    }
  }
  if (paste) {
    const text = typeof data.getData === 'function' ? data.getData('text/plain') : '';
    if (text) { return []; }
    return files.filter(f => /^image\//.test(f.type));
  }
  return files;
}

/**
 * Paste (images) into o.input and drop (any file) onto o.zone upload through o.fileInput, the page's own file input,
 * one file at a time: the page's change handler uploads and sends it, and disables o.busy (the paperclip) meanwhile.
 * While a file is on its way a preview (the image, or the file name) with a progress bar shows in o.previewHost.
 * o.t(key): 'paste.uploading', 'paste.drop'. o.canUpload(): false refuses at once with o.onRefused().
 */
export function enableFilePaste(o) {
  const doc = o.doc || document;
  const queue = [];
  let running = false;

  o.input.addEventListener('paste', e => {
    const files = filesOf(e.clipboardData, true);
    if (!files.length) { return; }
    e.preventDefault();
    add(files);
  });
  let depth = 0;
  function hasFiles(e) { return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0; }
  o.zone.addEventListener('dragenter', e => { if (hasFiles(e)) { depth++; o.zone.classList.add('dropping'); } });
  o.zone.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) { o.zone.classList.remove('dropping'); } });
  o.zone.addEventListener('dragover', e => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; } });
  o.zone.addEventListener('drop', e => {
    depth = 0;
    o.zone.classList.remove('dropping');
    const files = filesOf(e.dataTransfer, false);
    if (!files.length) { return; }
    e.preventDefault();
    add(files);
  });

  function add(files) {
    if (o.canUpload && !o.canUpload()) { if (o.onRefused) { o.onRefused(); } return; }
    files.forEach(f => queue.push(f));
    next();
  }

  function next() {
    if (running || !queue.length) { return; }
    if (o.busy.disabled) { whenIdle(next); return; } // a file picked with the paperclip is still on its way
    running = true;
    const file = queue.shift();
    const preview = showPreview(file);
    const dt = new DataTransfer();
    dt.items.add(file);
    o.fileInput.files = dt.files;
    // Synchronous: the page's handler runs now, and has disabled the paperclip if the upload started.
    o.fileInput.dispatchEvent(new Event('change', { bubbles: true }));
    const done = () => { preview.remove(); running = false; next(); };
    if (o.busy.disabled) { whenIdle(done); } else { done(); }
  }

  function whenIdle(fn) {
    const watch = new MutationObserver(() => { if (!o.busy.disabled) { watch.disconnect(); fn(); } });
    watch.observe(o.busy, { attributes: true, attributeFilter: ['disabled'] });
  }

  function showPreview(file) {
    const image = /^image\//.test(file.type);
    const thumb = image ? el(doc, 'img', { class: 'paste-thumb', alt: file.name || '' }) : null;
    const box = el(doc, 'div', { class: 'paste-preview', role: 'status', 'data-file': file.name || '' }, [
      thumb,
      el(doc, 'span', { class: 'paste-name', text: file.name || '' }),
      el(doc, 'progress', { class: 'paste-progress', 'aria-label': o.t('paste.uploading', { name: file.name || '' }) })
    ]);
    if (thumb) {
      // A data: URL (the console's policy allows data: images, not blob:), read locally: nothing leaves the page.
      const reader = new FileReader();
      reader.onload = () => { if (typeof reader.result === 'string' && /^data:image\//.test(reader.result)) { thumb.src = reader.result; } };
      reader.readAsDataURL(file);
    }
    o.previewHost.appendChild(box);
    return box;
  }
  return { add };
}

/** The picker's and the previews' look inside the widget's Shadow DOM (the console has console/composer.css). */
export const WIDGET_CSS = [
  '.chatview{position:relative}',
  'button.emoji-button{background:transparent;border:0;cursor:pointer;padding:0 2px;width:30px;flex:none;font-size:20px;line-height:1;filter:grayscale(.2)}',
  'button.emoji-button:focus-visible,.emoji-panel button.emoji:focus-visible{outline:2px solid #2563eb;border-radius:6px}',
  '.emoji-panel{position:absolute;left:8px;right:8px;bottom:62px;max-height:230px;overflow-y:auto;background:#fff;border:1px solid #e4e7eb;border-radius:10px;box-shadow:0 8px 24px rgba(15,23,42,.18);padding:6px 8px;z-index:2}',
  '.emoji-group-name{font-size:11px;color:#52606d;margin:4px 2px 2px}',
  '.emoji-grid{display:grid;grid-template-columns:repeat(8,1fr);gap:2px}',
  '.emoji-panel button.emoji{border:0;background:transparent;font-size:20px;line-height:1;padding:4px 0;cursor:pointer;border-radius:6px}',
  '.emoji-panel button.emoji:hover{background:#eff6ff}',
  '.paste-preview{display:flex;align-items:center;gap:8px;padding:6px 12px;font-size:12px;color:#52606d;background:#fff;border-top:1px solid #e4e7eb}',
  '.paste-preview img{width:40px;height:40px;object-fit:cover;border-radius:6px;border:1px solid #e4e7eb}',
  '.paste-preview progress{flex:1;height:6px}',
  '.chatview.dropping{outline:2px dashed #2563eb;outline-offset:-6px}',
  '.msg .text a.link{color:inherit;text-decoration:underline}'
].join('\n');

/**
 * The widget's composer gets the emoji button (next to the paperclip) and paste/drop of images. w: {root (its shadow
 * root), ui (its elements: chat, composer, input, file, attach), t (its strings), canUpload, onRefused}.
 */
export function enhanceWidget(w) {
  const doc = document;
  if (w.root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    w.root.adoptedStyleSheets = w.root.adoptedStyleSheets.concat([sheet]);
  } else {
    w.root.appendChild(el(doc, 'style', { text: WIDGET_CSS }));
  }
  const picker = createEmojiPicker({ input: w.ui.input, t: w.t, doc: doc });
  w.ui.composer.insertBefore(picker.button, w.ui.input);
  w.ui.chat.appendChild(picker.panel);
  const previews = el(doc, 'div', { class: 'paste-previews' });
  w.ui.chat.insertBefore(previews, w.ui.composer);
  enableFilePaste({ doc: doc, input: w.ui.input, zone: w.ui.chat, fileInput: w.ui.file, busy: w.ui.attach, previewHost: previews,
    t: w.t, canUpload: w.canUpload, onRefused: w.onRefused });
  return { picker };
}
