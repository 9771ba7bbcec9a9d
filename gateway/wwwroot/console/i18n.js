/* Kefu console strings: every text the console shows goes through this one table (issue #18).
 * t('key', {name: 'Ann'}) looks the key up in the agent's language (its preference, else the browser's: zh-* → zh,
 * anything else → en), falls back to English, then to the key itself (so a missing string is visible, never blank).
 * Placeholders are {name}. Static HTML uses data-i18n="key" (textContent), data-i18n-placeholder, data-i18n-title and
 * data-i18n-aria-label; applyTranslations(root) fills them.
 * The table has one section per feature so that features add strings without touching each other's lines. */

var LANGS = ['en', 'zh'];

export var strings = {
  en: {
    // ---- core (login, navigation, list, chat, admin pages)
    'lang.en': 'English',
    'lang.zh': '中文',
    // ---- timeline
    // ---- composer and shortcuts
    // ---- branding and avatars
    // ---- email
    'email.transcriptOnResolve': 'Email the transcript to the visitor when a conversation is resolved',
  },
  zh: {
    // ---- core (login, navigation, list, chat, admin pages)
    'lang.en': 'English',
    'lang.zh': '中文',
    // ---- timeline
    // ---- composer and shortcuts
    // ---- branding and avatars
    // ---- email
    'email.transcriptOnResolve': '对话解决后将聊天记录发送到访客邮箱',
  },
};

function browserLanguage() {
  var langs = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en']);
  for (var i = 0; i < langs.length; i++) {
    var l = String(langs[i] || '').toLowerCase();
    if (l.slice(0, 2) === 'zh') { return 'zh'; }
    if (l.slice(0, 2) === 'en') { return 'en'; }
  }
  return 'en';
}

var current = browserLanguage();

/** The language in use: 'en' or 'zh'. */
export function language() { return current; }

/** The BCP 47 tag dates and numbers are formatted with. */
export function locale() { return current === 'zh' ? 'zh-CN' : 'en'; }

/** Uses the agent's preference (null or unknown: the browser's language) and sets <html lang>. */
export function setLanguage(lang) {
  current = LANGS.indexOf(lang) >= 0 ? lang : browserLanguage();
  if (typeof document !== 'undefined') { document.documentElement.lang = locale(); }
  return current;
}

/** The text for key in the current language, with {placeholders} filled from vars. */
export function t(key, vars) {
  var s = strings[current][key];
  if (s === undefined) { s = strings.en[key]; }
  if (s === undefined) { s = key; }
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, function (m, name) { return vars[name] === undefined || vars[name] === null ? m : String(vars[name]); });
  }
  return s;
}

/** Fills data-i18n* attributes under root (default: the whole document). */
export function applyTranslations(root) {
  root = root || document;
  root.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
  [['data-i18n-placeholder', 'placeholder'], ['data-i18n-title', 'title'], ['data-i18n-aria-label', 'aria-label']].forEach(function (p) {
    root.querySelectorAll('[' + p[0] + ']').forEach(function (el) { el.setAttribute(p[1], t(el.getAttribute(p[0]))); });
  });
}

/** A time as the console shows it: the hour today, else the day and hour, in the console's language. */
export function fmtTime(ts) {
  if (!ts) { return ''; }
  var d = new Date(ts);
  var today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(locale(), { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
