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
    'composer.emoji.open': 'Insert an emoji',
    'composer.emoji.title': 'Emoji',
    'composer.emoji.smileys': 'Smileys',
    'composer.emoji.gestures': 'Gestures',
    'composer.emoji.symbols': 'Symbols',
    'composer.emoji.objects': 'Objects',
    'composer.paste.uploading': 'Uploading {name}…',
    'composer.paste.notInNotes': 'Internal notes cannot carry files: switch to Reply to send it to the visitor.',
    'composer.cannedVariables': 'Variables, filled when the reply is used: {{contact.name}}, {{contact.email}}, {{agent.name}}, {{conversation.id}}.',
    'shortcuts.title': 'Keyboard shortcuts',
    'shortcuts.next': 'Next conversation',
    'shortcuts.previous': 'Previous conversation',
    'shortcuts.switcher': 'Go to a conversation',
    'shortcuts.switcherFilter': 'Visitor name or conversation id',
    'shortcuts.switcherEmpty': 'No conversation matches.',
    'shortcuts.resolve': 'Resolve the open conversation',
    'shortcuts.note': 'Switch between reply and internal note',
    'shortcuts.focus': 'Write in the composer',
    'shortcuts.blur': 'Leave the composer (then one-key shortcuts work)',
    'shortcuts.help': 'Show this list',
    'shortcuts.or': 'or',
    'shortcuts.close': 'Close',
    'shortcuts.typingHint': 'One-key shortcuts do nothing while you type in a field; the ones with Alt, Ctrl or ⌘ work from the composer too.',
    // ---- branding and avatars
    // ---- email
  },
  zh: {
    // ---- core (login, navigation, list, chat, admin pages)
    'lang.en': 'English',
    'lang.zh': '中文',
    // ---- timeline
    // ---- composer and shortcuts
    'composer.emoji.open': '插入表情',
    'composer.emoji.title': '表情',
    'composer.emoji.smileys': '笑脸',
    'composer.emoji.gestures': '手势',
    'composer.emoji.symbols': '符号',
    'composer.emoji.objects': '物品',
    'composer.paste.uploading': '正在上传 {name}…',
    'composer.paste.notInNotes': '内部备注不能附带文件：请切换到“回复”再发送给访客。',
    'composer.cannedVariables': '变量会在使用回复时填入：{{contact.name}}（联系人姓名）、{{contact.email}}（联系人邮箱）、{{agent.name}}（客服姓名）、{{conversation.id}}（会话 ID）。',
    'shortcuts.title': '键盘快捷键',
    'shortcuts.next': '下一个会话',
    'shortcuts.previous': '上一个会话',
    'shortcuts.switcher': '转到会话',
    'shortcuts.switcherFilter': '访客姓名或会话 ID',
    'shortcuts.switcherEmpty': '没有匹配的会话。',
    'shortcuts.resolve': '解决当前会话',
    'shortcuts.note': '在回复和内部备注之间切换',
    'shortcuts.focus': '在输入框中输入',
    'shortcuts.blur': '离开输入框（之后单键快捷键可用）',
    'shortcuts.help': '显示此列表',
    'shortcuts.or': '或',
    'shortcuts.close': '关闭',
    'shortcuts.typingHint': '在输入框中打字时单键快捷键不起作用；带 Alt、Ctrl 或 ⌘ 的快捷键在输入框中也可使用。',
    // ---- branding and avatars
    // ---- email
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
