/* The admin inbox editor's widget appearance fields and live preview (issue #18): colour (the text colour is chosen
 * for contrast the way the server does, WCAG 2), title and launcher corner, with a small mock of the widget that follows
 * every keystroke. The fields are added to #inbox-form here; app.js calls fill() when an inbox is edited and value()
 * when it is saved. User text reaches the mock through textContent only. */
import { t } from './i18n.js';

var HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
var DEFAULT = '#2563eb';

/** "#abc" -> "#aabbcc"; null when not a hex colour. */
export function normalColor(value) {
  var v = String(value || '').trim().toLowerCase();
  if (!HEX.test(v)) { return null; }
  return v.length === 7 ? v : '#' + v[1] + v[1] + v[2] + v[2] + v[3] + v[3];
}

function luminance(hex) {
  var c = [1, 3, 5].map(function (i) {
    var x = parseInt(hex.slice(i, i + 2), 16) / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/** White or black, whichever contrasts more (as InboxAppearanceRules.TextOn on the server). */
export function textOn(hex) {
  var l = luminance(hex);
  return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? '#ffffff' : '#000000';
}

/** A text span that applyTranslations() (i18n.js) can refresh when the language changes. */
function label(key) { return el('span', { text: t(key), 'data-i18n': key }); }

function el(tag, props, children) {
  var e = document.createElement(tag);
  Object.keys(props || {}).forEach(function (k) {
    if (k === 'text') { e.textContent = props[k]; } else if (k === 'class') { e.className = props[k]; } else { e.setAttribute(k, props[k]); }
  });
  (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}

/** Adds the appearance fields and the preview to the inbox form, before its submit button. */
export function attach(form) {
  if (!form || form.querySelector('.appearance')) { return; }
  var picker = el('input', { type: 'color', name: 'appearanceColorPicker', value: DEFAULT, 'aria-label': t('branding.appearance.colorPicker'),
    'data-i18n-aria-label': 'branding.appearance.colorPicker' });
  var color = el('input', { name: 'appearanceColor', placeholder: DEFAULT, maxlength: '7', class: 'narrow', 'aria-label': t('branding.appearance.color'),
    'data-i18n-aria-label': 'branding.appearance.color' });
  var title = el('input', { name: 'appearanceTitle', maxlength: '60', placeholder: t('branding.preview.defaultTitle'),
    'data-i18n-placeholder': 'branding.preview.defaultTitle' });
  var position = el('select', { name: 'appearancePosition' }, [
    el('option', { value: 'bottom-right', text: t('branding.appearance.right'), 'data-i18n': 'branding.appearance.right' }),
    el('option', { value: 'bottom-left', text: t('branding.appearance.left'), 'data-i18n': 'branding.appearance.left' })]);
  var error = el('span', { class: 'appearance-error error', role: 'alert' });
  var preview = buildPreview();
  var fields = el('fieldset', { class: 'appearance' }, [
    el('legend', { text: t('branding.appearance.legend'), 'data-i18n': 'branding.appearance.legend' }),
    el('label', null, [label('branding.appearance.color'), picker, color, error]),
    el('label', null, [label('branding.appearance.title'), title]),
    el('label', null, [label('branding.appearance.position'), position]),
    preview.root]);
  var submit = form.querySelector('button[type=submit]');
  form.insertBefore(fields, submit);
  picker.addEventListener('input', function () { color.value = picker.value; render(form); });
  color.addEventListener('input', function () { var c = normalColor(color.value); if (c) { picker.value = c; } });
  // Every keystroke in the form (name, greeting, colour, title, corner) redraws the mock.
  form.addEventListener('input', function () { render(form); });
  form.addEventListener('change', function () { render(form); });
  form.__preview = preview;
  render(form);
}

function buildPreview() {
  var p = {};
  p.title = el('strong', { class: 'pv-title' });
  p.subtitle = el('span', { class: 'pv-subtitle', text: t('branding.preview.subtitle'), 'data-i18n': 'branding.preview.subtitle' });
  p.header = el('div', { class: 'pv-header' }, [el('div', null, [p.title, el('br'), p.subtitle])]);
  p.greeting = el('div', { class: 'pv-greeting' });
  p.agent = el('div', { class: 'pv-msg pv-theirs', text: t('branding.preview.agentSays'), 'data-i18n': 'branding.preview.agentSays' });
  p.mine = el('div', { class: 'pv-msg pv-mine', text: t('branding.preview.visitorSays'), 'data-i18n': 'branding.preview.visitorSays' });
  p.panel = el('div', { class: 'pv-panel' }, [p.header, el('div', { class: 'pv-log' }, [p.greeting, p.agent, p.mine])]);
  p.launcher = el('div', { class: 'pv-launcher', 'aria-hidden': 'true' });
  p.root = el('div', { class: 'widget-preview', id: 'widget-preview', role: 'img', 'aria-label': t('branding.preview.label'),
    'data-i18n-aria-label': 'branding.preview.label' }, [p.panel, p.launcher]);
  return p;
}

function render(form) {
  var p = form.__preview;
  if (!p) { return; }
  var typed = form.appearanceColor.value.trim();
  var color = normalColor(typed) || DEFAULT;
  form.querySelector('.appearance-error').textContent = typed && !normalColor(typed) ? t('branding.appearance.badColor') : '';
  var text = textOn(color);
  [p.header, p.launcher, p.mine].forEach(function (x) { x.style.background = color; x.style.color = text; });
  p.title.textContent = form.appearanceTitle.value.trim() || t('branding.preview.defaultTitle');
  p.greeting.textContent = (form.greeting && form.greeting.value.trim()) || t('branding.preview.defaultGreeting');
  var left = form.appearancePosition.value === 'bottom-left';
  p.root.classList.toggle('left', left);
  p.root.setAttribute('data-position', left ? 'bottom-left' : 'bottom-right');
}

/** Shows an inbox's appearance in the fields (and the preview). */
export function fill(form, inbox) {
  var a = (inbox && inbox.appearance) || {};
  form.appearanceColor.value = a.color || '';
  form.appearanceColorPicker.value = a.color || DEFAULT;
  form.appearanceTitle.value = a.title || '';
  form.appearancePosition.value = a.position || 'bottom-right';
  render(form);
}

/** The appearance to save (PUT /api/v1/inboxes/{id}: appearance), or null for the widget's defaults. */
export function value(form) {
  var a = { color: form.appearanceColor.value.trim() || null, title: form.appearanceTitle.value.trim() || null,
    position: form.appearancePosition.value === 'bottom-left' ? 'bottom-left' : null };
  return a.color || a.title || a.position ? a : null;
}
