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
    'timeline.actor.visitor': 'The visitor',
    'timeline.actor.rule': 'Rule {id}',
    'timeline.actor.bot': 'A bot',
    'timeline.actor.system': 'Kefu',
    'timeline.took': '{actor} took this',
    'timeline.assignedBy': '{actor} assigned this to {to}',
    'timeline.assigned': 'Assigned to {to}',
    'timeline.transferred': '{actor} transferred this from {from} to {to}',
    'timeline.transferredTo': '{actor} transferred this to {to}',
    'timeline.transferredTeam': '{actor} moved this to team {team}',
    'timeline.snoozed': '{actor} snoozed this until {until}',
    'timeline.resolved': '{actor} resolved this',
    'timeline.reopened': '{actor} reopened this',
    'timeline.opened': 'The conversation opened',
    'timeline.status': '{actor} changed the status from {from} to {to}',
    'timeline.status.queued': 'queued',
    'timeline.status.open': 'open',
    'timeline.status.pending': 'pending',
    'timeline.status.snoozed': 'snoozed',
    'timeline.status.resolved': 'resolved',
    'timeline.tags': '{actor} set the tags: {tags}',
    'timeline.tagsCleared': '{actor} removed the tags',
    'timeline.priority': '{actor} set the priority to {priority}',
    'timeline.priority.low': 'low',
    'timeline.priority.normal': 'normal',
    'timeline.priority.high': 'high',
    'timeline.priority.urgent': 'urgent',
    'timeline.updated': '{actor} changed the conversation',
    'timeline.rated': 'The visitor rated this {rating}/5',
    'timeline.ratedComment': 'The visitor rated this {rating}/5: “{comment}”',
    'timeline.rule': 'Rule {id} ran: {outcome}',
    'timeline.ruleFailed': 'Rule {id} ran: {outcome} ({error})',
    'timeline.outcome.succeeded': 'succeeded',
    'timeline.outcome.failed': 'failed',
    'timeline.outcome.timed_out': 'timed out',
    'timeline.outcome.skipped': 'skipped',
    'timeline.outcome.failed_continued': 'failed, continued',
    'timeline.crmFailed': 'CRM sync to {crm} failed after {attempts} attempts {error}',
    'timeline.emailSent': 'Email ({kind}) sent to {to}',
    'timeline.emailFailed': 'Email ({kind}) to {to} failed: {error}',
    'timeline.emailBounced': 'Email ({kind}) to {to} bounced: {error}',
    'timeline.email.offline_reply': 'reply',
    'timeline.email.transcript': 'transcript',
    'timeline.email.agent_notification': 'agent notification',
    'timeline.mentioned': '{author} mentioned you in a note',
    'timeline.openConversation': 'Open conversation',
    'timeline.dismiss': 'Dismiss',
    'timeline.mentionSuggestions': 'Agents to mention',
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
    'branding.avatar.change': 'Your picture',
    'branding.avatar.hint': 'A PNG, JPEG or WebP picture, at most 512 KB and 2048 × 2048 pixels. Without one, your initials are shown.',
    'branding.avatar.upload': 'Upload a picture',
    'branding.avatar.remove': 'Remove the picture',
    'branding.avatar.tooLarge': 'This picture is too large.',
    'branding.avatar.badType': 'Only PNG, JPEG and WebP pictures can be used.',
    'branding.avatar.failed': 'The picture could not be saved.',
    'branding.appearance.legend': 'Widget appearance',
    'branding.appearance.color': 'Colour',
    'branding.appearance.colorPicker': 'Pick a colour',
    'branding.appearance.badColor': 'Use a hex colour such as #2563eb.',
    'branding.appearance.title': 'Title',
    'branding.appearance.position': 'Launcher',
    'branding.appearance.right': 'bottom right',
    'branding.appearance.left': 'bottom left',
    'branding.preview.label': 'Preview of the widget',
    'branding.preview.defaultTitle': 'Chat with us',
    'branding.preview.subtitle': 'We usually reply in a few minutes',
    'branding.preview.defaultGreeting': 'Hi! How can we help you today?',
    'branding.preview.agentSays': 'Hello! How can I help?',
    'branding.preview.visitorSays': 'Where is my order?',
    // ---- email
    'email.transcriptOnResolve': 'Email the transcript to the visitor when a conversation is resolved',
  },
  zh: {
    // ---- core (login, navigation, list, chat, admin pages)
    'lang.en': 'English',
    'lang.zh': '中文',
    // ---- timeline
    'timeline.actor.visitor': '访客',
    'timeline.actor.rule': '规则 {id}',
    'timeline.actor.bot': '机器人',
    'timeline.actor.system': '系统',
    'timeline.took': '{actor} 接手了此会话',
    'timeline.assignedBy': '{actor} 将此会话分配给 {to}',
    'timeline.assigned': '已分配给 {to}',
    'timeline.transferred': '{actor} 将此会话从 {from} 转给 {to}',
    'timeline.transferredTo': '{actor} 将此会话转给 {to}',
    'timeline.transferredTeam': '{actor} 将此会话转到团队 {team}',
    'timeline.snoozed': '{actor} 将此会话暂缓至 {until}',
    'timeline.resolved': '{actor} 解决了此会话',
    'timeline.reopened': '{actor} 重新打开了此会话',
    'timeline.opened': '会话已开始',
    'timeline.status': '{actor} 将状态从“{from}”改为“{to}”',
    'timeline.status.queued': '排队中',
    'timeline.status.open': '进行中',
    'timeline.status.pending': '待处理',
    'timeline.status.snoozed': '已暂缓',
    'timeline.status.resolved': '已解决',
    'timeline.tags': '{actor} 设置了标签：{tags}',
    'timeline.tagsCleared': '{actor} 移除了标签',
    'timeline.priority': '{actor} 将优先级设为{priority}',
    'timeline.priority.low': '低',
    'timeline.priority.normal': '普通',
    'timeline.priority.high': '高',
    'timeline.priority.urgent': '紧急',
    'timeline.updated': '{actor} 修改了会话',
    'timeline.rated': '访客评分 {rating}/5',
    'timeline.ratedComment': '访客评分 {rating}/5：“{comment}”',
    'timeline.rule': '规则 {id} 已执行：{outcome}',
    'timeline.ruleFailed': '规则 {id} 已执行：{outcome}（{error}）',
    'timeline.outcome.succeeded': '成功',
    'timeline.outcome.failed': '失败',
    'timeline.outcome.timed_out': '超时',
    'timeline.outcome.skipped': '已跳过',
    'timeline.outcome.failed_continued': '失败后继续',
    'timeline.crmFailed': '同步到 CRM {crm} 失败（已尝试 {attempts} 次）{error}',
    'timeline.emailSent': '邮件（{kind}）已发送至 {to}',
    'timeline.emailFailed': '发送至 {to} 的邮件（{kind}）失败：{error}',
    'timeline.emailBounced': '发送至 {to} 的邮件（{kind}）被退回：{error}',
    'timeline.email.offline_reply': '回复',
    'timeline.email.transcript': '聊天记录',
    'timeline.email.agent_notification': '客服通知',
    'timeline.mentioned': '{author} 在备注中提到了你',
    'timeline.openConversation': '打开会话',
    'timeline.dismiss': '关闭',
    'timeline.mentionSuggestions': '可提及的客服',
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
    'branding.avatar.change': '我的头像',
    'branding.avatar.hint': 'PNG、JPEG 或 WebP 图片，不超过 512 KB 和 2048 × 2048 像素。未设置时显示姓名首字母。',
    'branding.avatar.upload': '上传头像',
    'branding.avatar.remove': '删除头像',
    'branding.avatar.tooLarge': '图片太大。',
    'branding.avatar.badType': '只能使用 PNG、JPEG 或 WebP 图片。',
    'branding.avatar.failed': '头像保存失败。',
    'branding.appearance.legend': '聊天窗口外观',
    'branding.appearance.color': '颜色',
    'branding.appearance.colorPicker': '选择颜色',
    'branding.appearance.badColor': '请使用十六进制颜色，例如 #2563eb。',
    'branding.appearance.title': '标题',
    'branding.appearance.position': '按钮位置',
    'branding.appearance.right': '右下角',
    'branding.appearance.left': '左下角',
    'branding.preview.label': '聊天窗口预览',
    'branding.preview.defaultTitle': '在线客服',
    'branding.preview.subtitle': '我们通常几分钟内回复',
    'branding.preview.defaultGreeting': '您好！请问有什么可以帮您？',
    'branding.preview.agentSays': '您好！有什么可以帮您？',
    'branding.preview.visitorSays': '我的订单到哪儿了？',
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
