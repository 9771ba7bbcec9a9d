/*! Kefu visitor chat widget. Embed with:
 *  <script src="https://your-kefu-host/widget.js" data-inbox-key="pk_..." async></script>
 * Optional attributes: data-lang="en|zh-CN" (default: the browser's language), data-open="true" (start opened),
 * data-tenant / data-inbox (instead of a key, for a gateway without inbox keys),
 * data-user-id + data-user-hash (a signed-in customer: the website's own id for them, and the lowercase hex
 * HMAC-SHA256 of that id keyed with the inbox's identity secret, computed on the website's server; docs/integration.md §8).
 * Plain JavaScript, no build step; it loads one file of its own, the client module shared with the agent console
 * (kefu-client.js, next to this script: connect, resume, ordered outbox, reconnect, message content).
 * Everything lives in a Shadow DOM so the host page's styles do not leak in or out.
 * Every piece of user data reaches the page through textContent, never as HTML. */
(function () {
  'use strict';

  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-inbox-key], script[src*="widget.js"][data-tenant]');
  if (!script || window.KefuWidget) { return; }

  // The connection logic (connect, resume, ordered outbox, reconnect) is the shared module next to this script, also
  // used by the agent console: loaded from the widget's own origin, so embedding stays one classic script tag. Until
  // it is there, the page's calls to KefuWidget are remembered.
  var early = [];
  window.KefuWidget = {
    open: function () { early.push('open'); }, close: function () { early.push('close'); }, toggle: function () { early.push('toggle'); }
  };
  var MODULE = new URL('kefu-client.js', new URL(script.src, location.href)).href;
  import(MODULE).then(run, function (e) {
    if (window.console && console.warn) { console.warn('Kefu widget: could not load ' + MODULE + ' (' + e + '); chat is not shown.'); }
  });

  function run(K) {
    var ORIGIN = new URL(script.src, location.href).origin;
    var WS_URL = ORIGIN.replace(/^http/, 'ws') + '/ws';
    var data = script.dataset;
    var cfg = {
      key: data.inboxKey || null,
      tenant: data.tenant || null,
      inbox: data.inbox || null,
      open: data.open === 'true',
      userId: data.userId || null,
      userHash: data.userHash || null
    };

    // ---------------------------------------------------------------- strings (en, zh-CN)
    var STRINGS = {
      en: {
        title: 'Chat with us', subtitle: 'We usually reply in a few minutes', placeholder: 'Type a message…',
        send: 'Send', sending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent',
        typing: '{name} is typing…', agent: 'Agent', you: 'You',
        queue: 'You are number {n} in the queue. An agent will be with you shortly.',
        prechatTitle: 'Before we start', prechatIntro: 'Tell us who you are, so we can follow up.',
        name: 'Name', email: 'Email', start: 'Start chat',
        away: 'We are away right now. Leave a message and we will get back to you.',
        message: 'Message', leave: 'Send message', left: 'Thank you! We have your message. Come back to this page to see our reply.',
        csat: 'How did we do?', comment: 'Anything to add? (optional)', submit: 'Submit',
        csatThanks: 'Thank you for your feedback!', resolved: 'This conversation was resolved.',
        reconnecting: 'Connection lost. Reconnecting…', open: 'Open chat', close: 'Close chat',
        star: '{n} of 5', error: 'Something went wrong. Please try again.', invalidEmail: 'Please enter a valid email address.',
        attach: 'Attach an image or file', uploading: 'Uploading {name}…', tooLarge: 'This file is too large.',
        badType: 'This type of file is not allowed.', attachFirst: 'Send a message first, then attach files.',
        greeting: 'Hi! How can we help you today?', unavailable: 'Chat is not available right now. Please try again later.',
        offline: 'You are offline. Your messages will be sent when the connection is back.', waiting: 'Waiting for the network…',
        retry: 'Retry', discard: 'Discard',
        replying: '{name} is replying', backAt: 'Back at {time} ({zone})', backOn: 'Back {day} at {time} ({zone})',
        yourTime: '{time} your time',
        transcript: 'Email me the transcript', transcriptSend: 'Send', transcriptSent: 'The transcript is on its way to {email}.',
        transcriptLimited: 'A transcript was sent a moment ago. Please try again in a minute.',
        transcriptNone: 'Send a message first, then ask for the transcript.', transcriptOff: 'Email is not available right now.'
      },
      'zh-CN': {
        title: '在线客服', subtitle: '我们通常几分钟内回复', placeholder: '输入消息…',
        send: '发送', sending: '发送中…', sent: '已发送', read: '已读', failed: '发送失败',
        typing: '{name} 正在输入…', agent: '客服', you: '我',
        queue: '您当前排在第 {n} 位，客服马上就来。',
        prechatTitle: '开始之前', prechatIntro: '留下您的称呼和邮箱，方便我们跟进。',
        name: '姓名', email: '邮箱', start: '开始咨询',
        away: '我们暂时不在线。请留言，我们会尽快回复您。',
        message: '留言内容', leave: '提交留言', left: '谢谢！我们已收到您的留言。回到此页面即可查看我们的回复。',
        csat: '请为本次服务评分', comment: '还有什么想说的？（可选）', submit: '提交',
        csatThanks: '感谢您的评价！', resolved: '本次会话已结束。',
        reconnecting: '连接已断开，正在重新连接…', open: '打开聊天', close: '关闭聊天',
        star: '{n} 星（共 5 星）', error: '出错了，请重试。', invalidEmail: '请输入有效的邮箱地址。',
        attach: '发送图片或文件', uploading: '正在上传 {name}…', tooLarge: '文件太大。',
        badType: '不支持此类型的文件。', attachFirst: '请先发送一条消息，再发送文件。',
        greeting: '您好！请问有什么可以帮您？', unavailable: '在线客服暂不可用，请稍后再试。',
        offline: '网络已断开，恢复后将自动发送您的消息。', waiting: '等待网络连接…',
        retry: '重试', discard: '删除',
        replying: '{name} 正在为您服务', backAt: '我们将于 {time}（{zone}）回来', backOn: '我们将于{day} {time}（{zone}）回来',
        yourTime: '您当地时间 {time}',
        transcript: '将聊天记录发到我的邮箱', transcriptSend: '发送', transcriptSent: '聊天记录正在发送到 {email}。',
        transcriptLimited: '刚刚已发送过聊天记录，请一分钟后再试。',
        transcriptNone: '请先发送一条消息，再索取聊天记录。', transcriptOff: '暂时无法发送邮件。'
      }
    };
    var lang = data.lang || navigator.language || 'en';
    lang = /^zh/i.test(lang) ? 'zh-CN' : 'en';
    function t(key, args) {
      var s = STRINGS[lang][key] || STRINGS.en[key] || key;
      if (args) { Object.keys(args).forEach(function (k) { s = s.split('{' + k + '}').join(String(args[k])); }); }
      return s;
    }

    // ---------------------------------------------------------------- persistence
    var STORE_KEY = 'kefu.widget.' + ORIGIN + '.' + (cfg.key || (cfg.tenant || 'default') + '/' + (cfg.inbox || 'default'));
    var saved = {};
    try { saved = JSON.parse(localStorage.getItem(STORE_KEY) || '{}') || {}; } catch (e) { saved = {}; }
    function persist() {
      try { localStorage.setItem(STORE_KEY, JSON.stringify(saved)); } catch (e) { /* private mode: session only */ }
    }
    function tokenExpired(token) {
      try {
        var payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
        return !payload.exp || payload.exp * 1000 < Date.now() + 60000;
      } catch (e) { return true; }
    }
    if (saved.token && tokenExpired(saved.token)) { saved = { name: saved.name, email: saved.email, userId: saved.userId }; persist(); }
    // The chat kept here belongs to the customer who was signed in: once they sign out, or someone else signs in on this
    // browser, it is not shown (nothing of it is kept); the next customer starts their own.
    if (saved.userId && saved.userId !== cfg.userId) { saved = {}; persist(); }

    // ---------------------------------------------------------------- DOM helpers (text only, never HTML)
    function h(tag, props, children) {
      var el = document.createElement(tag);
      if (props) {
        Object.keys(props).forEach(function (k) {
          var v = props[k];
          if (v === null || v === undefined || v === false) { return; }
          if (k === 'text') { el.textContent = v; }
          else if (k === 'class') { el.className = v; }
          else if (k.slice(0, 2) === 'on') { el.addEventListener(k.slice(2), v); }
          else { el.setAttribute(k, v === true ? '' : v); }
        });
      }
      (children || []).forEach(function (c) { if (c) { el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
      return el;
    }
    function svg(path) {
      var ns = 'http://www.w3.org/2000/svg';
      var s = document.createElementNS(ns, 'svg');
      s.setAttribute('viewBox', '0 0 24 24');
      s.setAttribute('aria-hidden', 'true');
      var p = document.createElementNS(ns, 'path');
      p.setAttribute('d', path);
      s.appendChild(p);
      return s;
    }
    function timeOf(ts) {
      var d = ts ? new Date(ts) : new Date();
      return d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
    }

    var CSS = [
      // !important on :host beats the host page's own !important rules on our element; nothing else reaches inside.
      ':host{all:initial!important;display:block!important;position:fixed!important;right:20px!important;bottom:20px!important;' +
        'left:auto!important;top:auto!important;z-index:2147483000!important;visibility:visible!important;opacity:1!important;' +
        'font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif!important;color:#1f2933!important}',
      '*{box-sizing:border-box}',
      '.bubble{width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(37,99,235,.35);display:flex;align-items:center;justify-content:center;margin-left:auto;position:relative}',
      '.bubble svg{width:28px;height:28px;fill:currentColor}',
      '.bubble .count{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#e11d48;color:#fff;font-size:12px;line-height:20px;padding:0 5px;text-align:center}',
      '.panel{width:360px;max-width:calc(100vw - 40px);height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(15,23,42,.25);display:flex;flex-direction:column;overflow:hidden;margin-bottom:14px}',
      '.panel[hidden],[hidden]{display:none!important}',
      'header{background:#2563eb;color:#fff;padding:14px 16px;display:flex;align-items:center;gap:10px}',
      'header .titles{flex:1;min-width:0}',
      'header h2{margin:0;font-size:16px;font-weight:600}',
      'header p{margin:2px 0 0;font-size:12px;opacity:.85}',
      'header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1;padding:2px 6px}',
      '.banner{font-size:12px;padding:6px 12px;background:#fff7ed;color:#9a3412;border-bottom:1px solid #fed7aa}',
      '.banner.queue{background:#eff6ff;color:#1e40af;border-color:#bfdbfe}',
      '.chatview{display:flex;flex-direction:column;flex:1;min-height:0}',
      '.log{flex:1;overflow-y:auto;padding:14px 12px;background:#f8fafc;display:flex;flex-direction:column;gap:8px}',
      '.greeting{align-self:center;text-align:center;color:#52606d;font-size:13px;max-width:90%;white-space:pre-wrap}',
      '.msg{max-width:80%;display:flex;flex-direction:column}',
      '.msg .text{padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}',
      '.msg .meta{font-size:11px;color:#7b8794;margin-top:2px}',
      '.msg.mine{align-self:flex-end;align-items:flex-end}',
      '.msg.mine .text{background:#2563eb;color:#fff;border-bottom-right-radius:4px}',
      '.msg.theirs{align-self:flex-start}',
      '.msg.theirs .text{background:#fff;border:1px solid #e4e7eb;border-bottom-left-radius:4px}',
      '.msg.system{align-self:center;max-width:90%}',
      '.msg.system .text{background:transparent;color:#52606d;font-size:12px;text-align:center}',
      '.msg[data-state="sending"] .text{opacity:.6}',
      '.msg[data-state="failed"] .meta{color:#e11d48}',
      '.typing{font-size:12px;color:#52606d;padding:0 14px 4px;font-style:italic;background:#f8fafc}',
      'form.composer{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e7eb;background:#fff}',
      'textarea,input{font:inherit;color:inherit;border:1px solid #cbd2d9;border-radius:8px;padding:8px 10px;width:100%;background:#fff}',
      'textarea:focus,input:focus{outline:2px solid #93c5fd;border-color:#2563eb}',
      'form.composer textarea{resize:none;height:40px;max-height:120px}',
      'button.attach{background:transparent;border:0;color:#52606d;cursor:pointer;padding:0 2px;width:32px;flex:none;display:flex;align-items:center;justify-content:center}',
      'button.attach svg{width:22px;height:22px;fill:currentColor}',
      'button.attach:disabled{opacity:.4;cursor:default}',
      '.msg .text img.thumb{display:block;max-width:100%;max-height:200px;border-radius:8px;background:#fff}',
      '.msg .text a.file{color:inherit;text-decoration:underline}',
      '.upload{align-self:flex-end;font-size:12px;color:#52606d}',
      '.upload.error{color:#e11d48}',
      // nowrap: "发送" must not break into two lines next to the text box.
      'button.primary{background:#2563eb;color:#fff;border:0;border-radius:8px;padding:8px 14px;font:inherit;font-weight:600;cursor:pointer;white-space:nowrap;flex:none}',
      'button.primary:disabled{opacity:.5;cursor:default}',
      '.pane{flex:1;overflow-y:auto;padding:18px 16px;display:flex;flex-direction:column;gap:10px}',
      '.pane h3{margin:0;font-size:15px}',
      '.pane p{margin:0;color:#52606d}',
      '.pane label{display:flex;flex-direction:column;gap:4px;font-size:12px;color:#52606d}',
      '.pane textarea{min-height:90px;resize:vertical}',
      '.error{color:#e11d48;font-size:12px}',
      '.csat{border-top:1px solid #e4e7eb;padding:12px;background:#fff;display:flex;flex-direction:column;gap:8px}',
      '.csat .stars{display:flex;gap:4px}',
      '.csat .stars button{border:0;background:transparent;font-size:26px;line-height:1;color:#cbd2d9;cursor:pointer;padding:0 2px}',
      '.csat .stars button.on{color:#f59e0b}',
      '.csat textarea{height:54px;resize:none}',
      '.transcript{padding:2px 12px;font-size:12px;display:flex;gap:6px;align-items:center;flex-wrap:wrap}',
      '.transcript>button.link{border:0;background:transparent;color:#52606d;text-decoration:underline;cursor:pointer;padding:0;font-size:12px}',
      '.transcript input{flex:1;min-width:120px;font-size:12px;padding:4px 6px}',
      '.msg .actions{display:flex;gap:10px;margin-top:2px}',
      '.msg .actions button{border:0;background:transparent;color:#2563eb;font:inherit;font-size:12px;cursor:pointer;padding:0;text-decoration:underline}',
      '.notice{margin:0;font-size:12px;padding:8px 12px;background:#ecfdf5;color:#065f46;border-top:1px solid #a7f3d0}',
      '.pane.unavailable{justify-content:center;text-align:center}',
      // A phone: the open panel is the whole screen (the bubble hides), and inputs are 16px so the browser does not zoom
      // in on focus. Its height follows the visual viewport (fitViewport), so the keyboard never covers the composer.
      '@media (max-width:600px){' +
        ':host([data-open]){right:0!important;bottom:0!important;left:0!important;top:0!important}' +
        ':host([data-open]) .bubble{display:none}' +
        '.panel{width:100vw;max-width:none;height:100vh;height:100dvh;max-height:none;border-radius:0;margin:0;box-shadow:none}' +
        'textarea,input{font-size:16px}}',
      // The inbox's appearance (issue #18): its colour and the text colour chosen for contrast, as variables set from
      // GET /api/v1/widget/{key}; the launcher in the bottom-left corner when the inbox says so.
      '.bubble,header,.msg.mine .text,button.primary{background:var(--kefu-accent,#2563eb);color:var(--kefu-on-accent,#fff)}',
      'header button{color:var(--kefu-on-accent,#fff)}',
      '.msg .actions button{color:var(--kefu-accent,#2563eb)}',
      ':host([data-position="bottom-left"]){left:20px!important;right:auto!important}',
      ':host([data-position="bottom-left"]) .bubble{margin-left:0;margin-right:auto}',
      // Agents' faces: initials on a colour from the agent's id, covered by the agent's picture once it has loaded.
      '.face{flex:none;width:26px;height:26px;border-radius:50%;color:#fff;font-size:11px;font-weight:600;display:inline-flex;align-items:center;justify-content:center;overflow:hidden;position:relative;background:#64748b}',
      '.face img{position:absolute;inset:0;width:100%;height:100%;object-fit:cover}',
      '.msg.with-face{position:relative;padding-left:32px}',
      '.msg.with-face > .face{position:absolute;left:0;bottom:18px}',
      'header .face{width:32px;height:32px;font-size:13px;box-shadow:0 0 0 2px rgba(255,255,255,.6)}',
      '.back-at{font-weight:600;color:#1f2933}'
    ].join('\n');

    // ---------------------------------------------------------------- UI
    var host = h('kefu-widget', { id: 'kefu-widget', lang: lang }); // its own tag: the page's div/section rules miss it
    var root = host.attachShadow({ mode: 'open' });
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(h('style', { text: CSS }));
    }

    var ui = {};
    ui.count = h('span', { class: 'count', hidden: true });
    ui.bubble = h('button', { class: 'bubble', type: 'button', 'aria-label': t('open'), title: t('open'), onclick: toggle },
      [svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z'), ui.count]);
    ui.title = h('h2', { text: t('title') });
    ui.subtitle = h('p', { text: t('subtitle') });
    ui.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    ui.queue = h('div', { class: 'banner queue', role: 'status', hidden: true });
    ui.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    ui.greeting = h('div', { class: 'greeting', text: t('greeting') }); // never an empty white panel
    ui.log.appendChild(ui.greeting);
    ui.typing = h('div', { class: 'typing', hidden: true });
    ui.input = h('textarea', { placeholder: t('placeholder'), 'aria-label': t('placeholder'), rows: '1', maxlength: '8192' });
    ui.sendButton = h('button', { class: 'primary', type: 'submit', text: t('send') });
    ui.file = h('input', { type: 'file', hidden: true, accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain' });
    ui.attach = h('button', { class: 'attach', type: 'button', 'aria-label': t('attach'), title: t('attach'),
      onclick: function () { ui.file.click(); } },
      [svg('M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z')]);
    ui.file.addEventListener('change', onFileChosen);
    ui.composer = h('form', { class: 'composer', onsubmit: onComposerSubmit }, [ui.attach, ui.file, ui.input, ui.sendButton]);
    ui.csat = h('div', { class: 'csat', hidden: true });
    ui.notice = h('p', { class: 'notice left', role: 'status', hidden: true });
    ui.transcript = buildTranscript();
    ui.chat = h('div', { class: 'chatview' },
      [ui.queue, ui.log, ui.typing, ui.notice, ui.csat, ui.transcript, ui.composer]);
    ui.unavailable = h('div', { class: 'pane unavailable', hidden: true }, [h('p', { text: t('unavailable') })]);
    ui.prechat = h('form', { class: 'pane prechat', hidden: true, onsubmit: onPrechatSubmit });
    ui.offline = h('form', { class: 'pane offline', hidden: true, onsubmit: onOfflineSubmit });
    ui.panel = h('section', { class: 'panel', hidden: true, role: 'dialog', 'aria-label': t('title') }, [
      h('header', null, [ui.headerFace = h('span', { class: 'face', hidden: true }), h('div', { class: 'titles' }, [ui.title, ui.subtitle]),
        h('button', { type: 'button', 'aria-label': t('close'), title: t('close'), text: '×', onclick: toggle })]),
      ui.banner, ui.chat, ui.prechat, ui.offline, ui.unavailable
    ]);
    root.appendChild(ui.panel);
    root.appendChild(ui.bubble);

    ui.input.addEventListener('input', onInput);
    ui.log.addEventListener('scroll', function () { atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40; });
    // An image grows the log when it loads (load does not bubble: capture it): keep the newest message in view, unless
    // the visitor has scrolled up to read.
    // The image's own growth counts as "still at the bottom": a scroll event computed while the image's link or bytes were
    // on their way can have cleared atBottom without the visitor scrolling.
    ui.log.addEventListener('load', function (e) {
      if (!e.target || e.target.tagName !== 'IMG') { return; }
      var gap = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight;
      if (atBottom || gap - e.target.offsetHeight < 40) { scrollDown(); }
    }, true);
    ui.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); onComposerSubmit(e); }
    });

    function mount() { (document.body || document.documentElement).appendChild(host); }
    // Shown once the inbox's colour and corner are known (or after a short wait), so the launcher never jumps or
    // changes colour on the page.
    var mountWhen = function () { if (document.body) { mount(); } else { document.addEventListener('DOMContentLoaded', mount); } };
    var mountTimer = setTimeout(function () { var m = mountWhen; mountWhen = null; if (m) { m(); } }, 2500);
    function mountNow() { clearTimeout(mountTimer); var m = mountWhen; mountWhen = null; if (m) { m(); } }

    // ---------------------------------------------------------------- state
    var info = null;               // GET /api/v1/widget/{key}
    var conversationId = saved.conversationId || null;
    var status = null;             // conversation status
    var pending = [];              // unacked sends shown: {clientMsgId, text, content, el, failed}
    var unavailable = false, warned = false, recovering = 0, atBottom = true, lastTypingAt = 0;
    var agentRead = 0;             // highest seq an agent has read
    var readSent = 0;              // highest seq we reported read
    var highestTheirs = 0;         // highest seq of a message from the other side
    var conn = K.createConnection({
      url: function () { return saved.token ? WS_URL + '?access_token=' + encodeURIComponent(saved.token) : null; },
      canConnect: function () { return !unavailable; },
      onOpen: onOpen, onFrame: onFrame, onDrop: onDrop, refused: checkToken, onNetwork: onNetwork,
      onHeartbeat: function () { outbox.heartbeat(); }
    });
    // The visitor's messages by seq and the resume (sync) of the current conversation.
    var timeline = K.createTimeline(conn, null);
    // Unacked sends in typed order, only the head on the wire (kefu-client.js).
    var outbox = K.createOutbox({ conn: conn, onFail: function (entry) { setState(entry, 'failed'); } });
    var attachments = K.createAttachments(ORIGIN, function () { return saved.token; });
    var typingOn = false, typingIdle = null, typingHide = null;
    var view = 'chat';
    var visitorPromise = null;
    var identityRefused = false;

    function setView(name) {
      view = name;
      ui.chat.hidden = name !== 'chat';
      ui.prechat.hidden = name !== 'prechat';
      ui.offline.hidden = name !== 'offline';
      ui.unavailable.hidden = name !== 'unavailable';
    }

    function isOpen() { return !ui.panel.hidden; }

    function toggle() {
      ui.panel.hidden = !ui.panel.hidden;
      if (isOpen()) { host.setAttribute('data-open', ''); } else { host.removeAttribute('data-open'); }
      fitViewport();
      ui.bubble.setAttribute('aria-label', isOpen() ? t('close') : t('open'));
      if (isOpen()) {
        chooseView();
        if (view === 'chat') { ui.input.focus(); }
        scrollDown();
        markRead();
        // Availability changes (agents come and go, business hours): ask again before a first message.
        if (cfg.key && !conversationId && !unavailable) { loadInfo().then(function () { if (isOpen()) { chooseView(); } }); }
      }
    }

    function loadInfo() {
      if (!cfg.key) { return Promise.resolve(); }
      return api('GET', '/api/v1/widget/' + encodeURIComponent(cfg.key)).then(function (r) {
        if (r.status === 404) { chatUnavailable(unknownKeyWarning()); return; }
        if (!r.ok || !r.body) { return; }
        info = r.body;
        applyAppearance(info.appearance);
        // The title stays "Chat with us": the inbox's name is an internal one ("Default", "Sales EU").
        ui.greeting.textContent = info.greeting || t('greeting');
        ui.subtitle.textContent = info.available === false ? (info.awayMessage || t('away')) : t('subtitle');
        if (ui.awayText) { ui.awayText.textContent = info.awayMessage || t('away'); }
        if (ui.backAt) { ui.backAt.textContent = backAtText(info); ui.backAt.hidden = !ui.backAt.textContent; }
      });
    }

    // ---------------------------------------------------------------- appearance, faces, "back at" (issue #18)
    function applyAppearance(a) {
      a = a || {};
      var hex = /^#[0-9a-f]{6}$/i;
      if (hex.test(a.color || '')) { host.style.setProperty('--kefu-accent', a.color); } else { host.style.removeProperty('--kefu-accent'); }
      if (hex.test(a.textColor || '')) { host.style.setProperty('--kefu-on-accent', a.textColor); } else { host.style.removeProperty('--kefu-on-accent'); }
      if (a.position === 'bottom-left') { host.setAttribute('data-position', 'bottom-left'); } else { host.removeAttribute('data-position'); }
      // The inbox's title when it has one; else "Chat with us" (the inbox's name is an internal one).
      ui.title.textContent = a.title || t('title');
      ui.panel.setAttribute('aria-label', a.title || t('title'));
    }

    // "Back at 09:00 (Asia/Shanghai)": the opening the server computed from the inbox's hours, shown on the inbox's
    // clock, with the weekday when it is not today there, and the visitor's own clock time when that differs.
    function backAtText(w) {
      if (!w || w.withinBusinessHours !== false || !w.nextOpening || !w.timeZone) { return ''; }
      var at = new Date(w.nextOpening);
      try {
        var time = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: w.timeZone }).format(at);
        var dayOf = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: w.timeZone });
        var text = dayOf.format(at) === dayOf.format(new Date())
          ? t('backAt', { time: time, zone: w.timeZone })
          : t('backOn', { day: new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: w.timeZone }).format(at), time: time, zone: w.timeZone });
        var mine = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
        return mine === time ? text : text + ' · ' + t('yourTime', { time: mine });
      } catch (e) { return ''; } // a time zone this browser does not know: say nothing rather than something wrong
    }

    var faces = {}; // agent id -> 'ok' | 'none': after a 404, no more picture requests for that agent on this page
    function tenantOf() { return (info && info.tenant) || cfg.tenant || 'default'; }
    function colorFor(id) {
      var n = 0;
      for (var i = 0; i < id.length; i++) { n = (n * 31 + id.charCodeAt(i)) >>> 0; }
      return 'hsl(' + (n % 360) + ',55%,40%)'; // dark enough for white initials
    }
    function initialsOf(name) {
      var parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
      var first = parts.length ? Array.from(parts[0])[0] : '?';
      var last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : '';
      return (first + last).toUpperCase();
    }
    // An agent's face: initials at once; its picture (GET /api/v1/avatars/{tenant}/{agentId}) over them once loaded.
    function fillFace(el, sender) {
      var id = String(sender.id || '');
      el.textContent = initialsOf(sender.name || id);
      el.style.background = colorFor(id);
      el.setAttribute('data-agent', id);
      if (!id || faces[id] === 'none') { return el; }
      var img = h('img', { alt: '', src: ORIGIN + '/api/v1/avatars/' + encodeURIComponent(tenantOf()) + '/' + encodeURIComponent(id) });
      img.addEventListener('load', function () { faces[id] = 'ok'; el.appendChild(img); el.classList.add('has-picture'); });
      img.addEventListener('error', function () { faces[id] = 'none'; });
      return el;
    }
    function faceFor(sender) { return fillFace(h('span', { class: 'face', 'aria-hidden': 'true' }), sender); }
    // The header says who is answering: "Ann is replying", with Ann's face.
    function showReplier(sender) {
      if (!sender || sender.role !== 'agent') { return; }
      if (ui.headerFace.getAttribute('data-agent') !== String(sender.id || '')) { ui.headerFace.textContent = ''; fillFace(ui.headerFace, sender); }
      ui.headerFace.hidden = false;
      ui.subtitle.textContent = t('replying', { name: sender.name || t('agent') });
    }

    function unknownKeyWarning() {
      return 'Kefu widget: no inbox has the public key "' + cfg.key + '" (' + ORIGIN + '/api/v1/widget/' + cfg.key +
        ' answered 404), so the chat is shown as unavailable. Copy the current embed snippet from the Inboxes page of the' +
        ' Kefu console into this page (data-inbox-key on the widget.js script tag).';
    }

    // Chat cannot work (an unknown inbox key, or no visitor token to be had): say so instead of a live-looking panel
    // whose every message ends "Not sent"; tell the site owner once, in the page's console.
    function chatUnavailable(warning) {
      unavailable = true;
      conn.drop();
      setBanner('');
      if (warning && !warned) { warned = true; if (window.console && console.warn) { console.warn(warning); } }
      ui.subtitle.textContent = t('unavailable');
      setView('unavailable');
    }

    function chooseView() {
      if (unavailable) { setView('unavailable'); return; }
      var known = !!saved.token;
      var typed = ui.offText && ui.offText.value.trim();
      if (info && info.available === false && !conversationId && cfg.key && !pending.length) { buildOffline(); setView('offline'); }
      else if (view === 'offline' && typed) { return; } // never throw away a message being written
      else if (info && info.preChatForm && !known) { buildPrechat(); setView('prechat'); }
      else { setView('chat'); }
    }

    function field(label, input) { return h('label', null, [label, input]); }

    function buildPrechat() {
      if (ui.prechat.firstChild) { return; }
      ui.prechatName = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: '128' });
      ui.prechatEmail = h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: '254' });
      ui.prechatError = h('div', { class: 'error', role: 'alert', hidden: true });
      [h('h3', { text: t('prechatTitle') }), h('p', { text: t('prechatIntro') }),
        field(t('name'), ui.prechatName), field(t('email'), ui.prechatEmail), ui.prechatError,
        h('button', { class: 'primary', type: 'submit', text: t('start') })].forEach(function (c) { ui.prechat.appendChild(c); });
    }

    function buildOffline() {
      if (ui.offline.firstChild) { return; }
      ui.awayText = h('p', { text: (info && info.awayMessage) || t('away') });
      ui.backAt = h('p', { class: 'back-at', role: 'status', text: backAtText(info) });
      ui.backAt.hidden = !ui.backAt.textContent;
      ui.offName = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: '128' });
      ui.offEmail = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: '254' });
      ui.offText = h('textarea', { name: 'text', required: true, maxlength: '8192' });
      ui.offError = h('div', { class: 'error', role: 'alert', hidden: true });
      ui.offButton = h('button', { class: 'primary', type: 'submit', text: t('leave') });
      [ui.awayText, ui.backAt, field(t('name'), ui.offName), field(t('email'), ui.offEmail), field(t('message'), ui.offText),
        ui.offError, ui.offButton].forEach(function (c) { ui.offline.appendChild(c); });
    }

    function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; atBottom = true; }

    // On a phone the open panel is the whole screen; an on-screen keyboard shrinks the visual viewport (not the layout
    // one), so the panel takes the visual viewport's height and offset and the composer stays above the keyboard.
    function fitViewport() {
      var vv = window.visualViewport;
      var full = isOpen() && window.matchMedia && window.matchMedia('(max-width: 600px)').matches;
      if (!full || !vv) { ui.panel.style.height = ''; ui.panel.style.transform = ''; return; }
      ui.panel.style.height = Math.round(vv.height) + 'px';
      ui.panel.style.transform = vv.offsetTop ? 'translateY(' + Math.round(vv.offsetTop) + 'px)' : '';
      if (atBottom) { scrollDown(); }
    }

    function setBanner(text) { ui.banner.textContent = text || ''; ui.banner.hidden = !text; }

    function setQueue(position) {
      if (position && position > 0 && status !== 'open' && status !== 'resolved') {
        ui.queue.textContent = t('queue', { n: position });
        ui.queue.hidden = false;
      } else {
        ui.queue.hidden = true;
      }
    }

    function updateCount() {
      var unread = 0;
      if (!isOpen()) {
        Object.keys(timeline.bySeq).forEach(function (s) {
          var m = timeline.bySeq[s].msg;
          if (+s > readSent && m.sender && m.sender.role !== 'visitor') { unread++; }
        });
      }
      ui.count.textContent = String(unread);
      ui.count.hidden = unread === 0;
    }

    // ---------------------------------------------------------------- messages
    function messageElement(msg, mine) {
      var role = msg.sender ? msg.sender.role : 'visitor';
      var cls = 'msg ' + (role === 'system' ? 'system' : mine ? 'mine' : 'theirs');
      var el = h('div', { class: cls, 'data-role': role });
      var body = attachments.body(msg);
      el.setAttribute('data-kind', body.kind);
      el.appendChild(h('div', { class: 'text' }, [body.node]));
      var who = mine ? '' : role === 'system' ? '' : ((msg.sender && msg.sender.name) || t('agent')) + ' · ';
      el.appendChild(h('div', { class: 'meta', text: who + timeOf(msg.ts) }));
      if (role === 'agent' && !mine) { el.classList.add('with-face'); el.insertBefore(faceFor(msg.sender), el.firstChild); }
      return el;
    }

    function setState(entry, state) {
      entry.el.setAttribute('data-state', state);
      if (entry.mine) {
        var meta = entry.el.querySelector('.meta');
        // Offline, a message is not "sending": it waits for the network (and goes when it is back).
        meta.textContent = timeOf(entry.msg.ts) + ' · ' + (state === 'sending' && conn.offline ? t('waiting') : t(state));
        var actions = entry.el.querySelector('.actions');
        if (state === 'failed' && !actions) {
          entry.el.appendChild(h('div', { class: 'actions' }, [
            h('button', { type: 'button', class: 'retry', text: t('retry'), onclick: function () { retrySend(entry); } }),
            h('button', { type: 'button', class: 'discard', text: t('discard'), onclick: function () { discardSend(entry); } })]));
        } else if (state !== 'failed' && actions) { actions.remove(); }
      }
    }

    function refreshPending() { pending.forEach(function (p) { if (!p.failed) { setState(p, 'sending'); } }); }

    function placeBySeq(el, seq) {
      var after = timeline.after(seq);
      var next = after ? after.el : null;
      if (!next && pending.length) { next = pending[0].el; }
      if (next && next !== el) { ui.log.insertBefore(el, next); } else if (!next) { ui.log.appendChild(el); }
    }

    function showMessage(msg) {
      if (!msg || typeof msg.seq !== 'number' || timeline.has(msg.seq)) { return; } // each seq once
      var mine = msg.sender && msg.sender.role === 'visitor';
      var entry = null;
      if (mine && msg.clientMsgId) {
        for (var i = 0; i < pending.length; i++) {
          if (pending[i].clientMsgId === msg.clientMsgId) { entry = pending.splice(i, 1)[0]; break; }
        }
      }
      if (entry) {
        entry.msg = msg;
        outbox.settle(entry); // the message itself came back (e.g. by sync after a lost ack): as good as its ack
      } else {
        entry = { msg: msg, mine: mine, el: messageElement(msg, mine) };
      }
      entry.el.setAttribute('data-seq', String(msg.seq));
      placeBySeq(entry.el, msg.seq);
      if (mine) { setState(entry, msg.seq <= agentRead ? 'read' : 'sent'); }
      else if (msg.seq > highestTheirs) { highestTheirs = msg.seq; }
      if (!mine && msg.sender && msg.sender.role !== 'system') { hideTyping(); showReplier(msg.sender); }
      timeline.put(msg.seq, entry); // a gap: something was missed, the timeline syncs it
      scrollDown();
      markRead();
      updateCount();
    }

    // A send shown at once as "sending"; content: the typed content (an attachment), shown: how to show it.
    function addPending(text, content, shown) {
      var entry = { clientMsgId: K.uuid(), text: text, content: content || null, mine: true,
        msg: { text: text, content: shown || null, ts: new Date().toISOString() } };
      entry.el = messageElement({ text: text, content: entry.msg.content, sender: { role: 'visitor' }, ts: entry.msg.ts }, true);
      entry.el.setAttribute('data-client-msg-id', entry.clientMsgId);
      pending.push(entry);
      outbox.push(entry);
      ui.log.appendChild(entry.el);
      setState(entry, 'sending');
      scrollDown();
      return entry;
    }

    function onAck(f) {
      if (f.conversationId && f.conversationId !== conversationId) { setConversation(f.conversationId); }
      for (var i = 0; i < pending.length; i++) {
        if (pending[i].clientMsgId === f.clientMsgId) {
          var entry = pending[i];
          if (timeline.has(f.seq)) { pending.splice(i, 1); entry.el.remove(); outbox.settle(entry); return; }
          showMessage({ conversationId: f.conversationId, messageId: f.messageId, seq: f.seq, ts: f.ts, text: entry.text, content: entry.msg.content,
            clientMsgId: f.clientMsgId, sender: { role: 'visitor', id: saved.visitorId, name: saved.name } });
          return;
        }
      }
    }

    function onRead(f) {
      if (!f.reader || f.reader.role === 'visitor') { return; }
      if (f.seq > agentRead) {
        agentRead = f.seq;
        Object.keys(timeline.bySeq).forEach(function (s) {
          var e = timeline.bySeq[s];
          if (e.mine && +s <= agentRead) { setState(e, 'read'); }
        });
      }
    }

    function markRead() {
      if (!isOpen() || document.visibilityState === 'hidden' || !conn.open || !conversationId) { return; }
      if (highestTheirs > readSent && timeline.contiguous > readSent) {
        readSent = timeline.contiguous;
        conn.send({ type: 'read', seq: timeline.contiguous });
      }
      updateCount();
    }

    function showTyping(f) {
      if (!f.sender || f.sender.role === 'visitor') { return; }
      clearTimeout(typingHide);
      if (f.state === 'on') {
        ui.typing.textContent = t('typing', { name: f.sender.name || t('agent') });
        ui.typing.hidden = false;
        typingHide = setTimeout(hideTyping, 8000); // the server does not expire "on"
      } else { hideTyping(); }
    }
    function hideTyping() { ui.typing.hidden = true; clearTimeout(typingHide); }

    function onInput() {
      if (!conn.open || !conversationId) { return; }
      // At most one "on" every 3 s: typing frames count against the connection's frame limit and must never starve sends.
      if (ui.input.value.trim() && !typingOn && Date.now() - lastTypingAt >= 3000) {
        typingOn = true;
        lastTypingAt = Date.now();
        conn.send({ type: 'typing', state: 'on' });
      }
      clearTimeout(typingIdle);
      typingIdle = setTimeout(stopTyping, 2500);
    }
    function stopTyping() {
      clearTimeout(typingIdle);
      if (typingOn) { typingOn = false; if (conn.open && conversationId) { conn.send({ type: 'typing', state: 'off' }); } }
    }

    // ---------------------------------------------------------------- conversation state, CSAT
    function setConversation(id) {
      conversationId = id;
      saved.conversationId = id;
      persist();
    }

    function onConversation(c) {
      if (!c || !c.conversationId) { return; }
      if (c.conversationId !== conversationId) { setConversation(c.conversationId); }
      var before = status;
      status = c.status;
      setQueue(c.status === 'queued' ? c.queuePosition : 0);
      if (status === 'resolved' && before !== 'resolved' && !c.csat) { showCsat(); }
      if (status !== 'resolved') { ui.csat.hidden = true; }
    }

    function showCsat() {
      ui.csat.textContent = '';
      var rating = 0;
      var stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-label': t('csat') });
      var buttons = [];
      for (var n = 1; n <= 5; n++) {
        (function (value) {
          var b = h('button', { type: 'button', role: 'radio', 'aria-checked': 'false', 'aria-label': t('star', { n: value }),
            'data-rating': String(value), text: '★', onclick: function () {
              rating = value;
              buttons.forEach(function (x, i) {
                x.className = i < value ? 'on' : '';
                x.setAttribute('aria-checked', i + 1 === value ? 'true' : 'false');
              });
              submit.disabled = false;
            } });
          buttons.push(b);
          stars.appendChild(b);
        })(n);
      }
      var comment = h('textarea', { placeholder: t('comment'), 'aria-label': t('comment'), maxlength: '1000' });
      var error = h('div', { class: 'error', role: 'alert', hidden: true });
      var submit = h('button', { class: 'primary', type: 'button', text: t('submit'), disabled: true, onclick: function () {
        submit.disabled = true;
        api('POST', '/api/v1/conversations/' + encodeURIComponent(conversationId) + '/csat',
          { rating: rating, comment: comment.value.trim() || undefined }, saved.token).then(function (r) {
          if (r.ok || r.status === 409) {
            ui.csat.textContent = '';
            ui.csat.appendChild(h('p', { class: 'thanks', text: t('csatThanks') }));
            setTimeout(function () { ui.csat.hidden = true; }, 4000);
          } else { error.textContent = t('error'); error.hidden = false; submit.disabled = false; }
        });
      } });
      [h('p', { text: t('resolved') + ' ' + t('csat') }), stars, comment, error, submit].forEach(function (c) { ui.csat.appendChild(c); });
      ui.csat.hidden = false;
      scrollDown();
    }

    // ---------------------------------------------------------------- transcript by email (docs/email.md)
    function buildTranscript() {
      var email = h('input', { type: 'email', name: 'transcriptEmail', 'aria-label': t('email'), placeholder: t('email'), maxlength: '254', hidden: true });
      var send = h('button', { type: 'submit', text: t('transcriptSend'), hidden: true });
      var note = h('span', { class: 'note', role: 'status' });
      var form;
      var ask = h('button', { type: 'button', class: 'link', text: t('transcript'), onclick: function () {
        if (!conversationId || !saved.token) { note.textContent = t('transcriptNone'); return; }
        email.value = email.value || saved.email || '';
        email.hidden = false; send.hidden = false; ask.hidden = true; note.textContent = '';
        email.focus();
      } });
      form = h('form', { class: 'transcript', onsubmit: function (e) {
        e.preventDefault();
        var address = email.value.trim();
        send.disabled = true;
        api('POST', '/api/v1/conversations/' + encodeURIComponent(conversationId) + '/transcript',
          { email: address || undefined }, saved.token).then(function (r) {
          send.disabled = false;
          if (r.ok) {
            note.textContent = t('transcriptSent', { email: (r.body && r.body.to) || address });
            email.hidden = true; send.hidden = true; ask.hidden = false;
          } else if (r.status === 429) { note.textContent = t('transcriptLimited'); }
          else if (r.status === 400) { note.textContent = t('invalidEmail'); }
          else if (r.status === 503) { note.textContent = t('transcriptOff'); }
          else { note.textContent = t('error'); }
        });
      } }, [ask, email, send, note]);
      return form;
    }

    // ---------------------------------------------------------------- HTTP
    function api(method, path, body, token) {
      var headers = { 'Accept': 'application/json' };
      if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
      if (token) { headers.Authorization = 'Bearer ' + token; }
      return fetch(ORIGIN + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), mode: 'cors' })
        .then(function (r) {
          return r.text().then(function (text) {
            var json = null;
            try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
            return { ok: r.ok, status: r.status, body: json };
          });
        }, function () { return { ok: false, status: 0, body: null }; });
    }

    function ensureVisitor() {
      if (saved.token && !tokenExpired(saved.token)) { return Promise.resolve(saved.token); }
      if (visitorPromise) { return visitorPromise; }
      // The locale lets the server write its default texts (the away message) in the visitor's language.
      var body = { name: saved.name || undefined, email: saved.email || undefined, attributes: { locale: lang } };
      if (cfg.key) { body.inboxKey = cfg.key; } // names the tenant and inbox; the server refuses both at once
      else { if (cfg.tenant) { body.tenant = cfg.tenant; } if (cfg.inbox) { body.inbox = cfg.inbox; } }
      var identified = !!cfg.userId && !identityRefused;
      if (identified) { body.userId = cfg.userId; body.userHash = cfg.userHash || ''; }
      visitorPromise = api('POST', '/api/v1/visitors', body).then(function (r) {
        visitorPromise = null;
        if (identified && r.body && r.body.code === 'invalid_identity') {
          refuseIdentity(r);
          return ensureVisitor();
        }
        if (cfg.key && r.body && r.body.code === 'not_found') { chatUnavailable(unknownKeyWarning()); }
        if (!r.ok || !r.body || !r.body.token) {
          var e = new Error('visitor ' + r.status);
          e.status = r.status;
          throw e;
        }
        saved.visitorId = r.body.visitorId;
        saved.token = r.body.token;
        if (identified) { saved.userId = cfg.userId; }
        delete saved.conversationId;
        conversationId = null;
        persist();
        return saved.token;
      }, function (e) { visitorPromise = null; throw e; });
      return visitorPromise;
    }

    // A user id whose hash the server refuses (a wrong secret, a hash of another id): the page chats anonymously, and the
    // developer finds out why in the console. Nobody gets a customer's history without the website vouching for them.
    function refuseIdentity(r) {
      identityRefused = true;
      if (window.console && console.warn) {
        console.warn('Kefu widget: data-user-hash was refused (' + ((r.body && r.body.detail) || r.status) + '); chatting anonymously.');
      }
    }

    // An anonymous visitor who signed in on the website: the server links them to their contact, and they keep their
    // visitor, token and conversation.
    function identify() {
      if (!cfg.userId || !saved.token || saved.userId || identityRefused) { return Promise.resolve(); }
      return api('POST', '/api/v1/visitors/me/identify', { userId: cfg.userId, userHash: cfg.userHash || '' }, saved.token).then(function (r) {
        if (r.ok) { saved.userId = cfg.userId; persist(); }
        else if (r.body && r.body.code === 'invalid_identity') { refuseIdentity(r); }
        else if (r.status === 409) { saved = {}; persist(); } // identified as someone else before: start as this customer
      });
    }

    // ---------------------------------------------------------------- the connection (kefu-client.js) and resume
    function connect() { conn.connect(); }

    function onOpen() {
      recovering = 0;
      setBanner('');
      resume();
    }

    function onDrop() {
      timeline.reset();
      // A send on the wire when the socket died goes again (same clientMsgId) after the reconnect; one that was on the
      // wire at three deaths in a row fails with retry and discard, so a message the server chokes on cannot loop.
      outbox.dropped();
      if (typingOn) { typingOn = false; }
      setBanner(conn.offline ? t('offline') : t('reconnecting'));
    }

    function onNetwork(online) {
      refreshPending();
      if (online) { if (!conn.open) { setBanner(saved.token && !unavailable ? t('reconnecting') : ''); } } else { setBanner(t('offline')); }
    }

    // A socket refused before opening may mean the token is no longer valid (the server's signing key changed, it
    // expired) or the visitor is gone (an in-memory server restarted): GET /visitors/me says which (401 / 404). Then start
    // over as a new visitor once; unsent messages stay queued and go out in the new conversation. If that fails too, the
    // chat is unavailable: never a reconnect loop. Resolves true when the connection should simply try again later.
    function checkToken() {
      var token = saved.token;
      // Two sockets refused at the same moment (opening the chat and sending both connect): one check starts over, and
      // that recovery connects when it has its new token; the other must not count as a second refusal.
      if (!token || visitorPromise) { return Promise.resolve(false); }
      return api('GET', '/api/v1/visitors/me', undefined, token).then(function (r) {
        if (token !== saved.token) { return false; }
        if (r.status !== 401 && r.status !== 404) { return true; } // the network or the server: retry later
        if (recovering >= 1) { chatUnavailable('Kefu widget: a new visitor token was refused as well; chat is unavailable.'); return false; }
        recovering++;
        startOver();
        ensureVisitor().then(function () { connect(); }, function () { if (!unavailable) { chatUnavailable(null); } });
        return false;
      });
    }

    function startOver() {
      saved = { name: saved.name, email: saved.email };
      persist();
      conversationId = null;
      status = null;
      // The old conversation's messages belong to the old identity; the new conversation's seqs start at 1 again.
      Object.keys(timeline.bySeq).forEach(function (k) { timeline.bySeq[k].el.remove(); });
      timeline = K.createTimeline(conn, null);
      agentRead = readSent = highestTheirs = 0;
      setQueue(0);
    }

    function resume() {
      if (conversationId) {
        requestSync();
        api('GET', '/api/v1/conversations/' + encodeURIComponent(conversationId), undefined, saved.token).then(function (r) {
          if (r.ok && r.body) { onConversation(r.body); }
        });
      }
      // Unacked sends go again, in order, with their original clientMsgId: the server answers a stored one with its first ack.
      outbox.pump();
    }

    function requestSync() { if (conversationId) { timeline.sync(); } }

    // A failed message goes again at the end of the outbox (and of the log: it will be stored after what was sent since).
    function retrySend(entry) {
      pending.splice(pending.indexOf(entry), 1);
      pending.push(entry);
      ui.log.appendChild(entry.el);
      setState(entry, 'sending');
      scrollDown();
      ensureVisitor().then(function () { outbox.retry(entry); if (!conn.open) { connect(); } }, function () { outbox.fail(entry); });
    }

    function discardSend(entry) {
      var i = pending.indexOf(entry);
      if (i >= 0) { pending.splice(i, 1); }
      outbox.remove(entry);
      entry.el.remove();
    }

    function onFrame(f) {
      switch (f.type) {
        case 'message': showMessage(f); break;
        case 'ack': onAck(f); break;
        case 'synced': timeline.synced(f); break; // paged (hasMore): the timeline asks again from throughSeq
        case 'conversation': onConversation(f); break;
        case 'queue': if (!conversationId && f.conversationId) { setConversation(f.conversationId); } status = 'queued'; setQueue(f.position); break;
        case 'typing': showTyping(f); break;
        case 'read': onRead(f); break;
        case 'error': onError(f); break;
        default: break; // pong and frames this version does not know
      }
    }

    function onError(f) {
      if (f.code === 'not_found' && !f.ref) { timeline.reset(); return; } // sync before the conversation exists
      // A send refused for now stays at the head and holds every later one (retried); refused for good, it fails.
      outbox.error(f);
    }

    // ---------------------------------------------------------------- forms
    function onComposerSubmit(e) {
      if (e) { e.preventDefault(); }
      var text = ui.input.value;
      if (!text.trim()) { return; }
      ui.input.value = '';
      stopTyping();
      sendText(text);
    }

    function onFileChosen() {
      var file = ui.file.files && ui.file.files[0];
      ui.file.value = '';
      if (!file) { return; }
      var note = h('div', { class: 'upload', role: 'status', text: t('uploading', { name: file.name }) });
      ui.log.appendChild(note);
      scrollDown();
      function fail(text) {
        note.className = 'upload error';
        note.textContent = file.name + ': ' + text;
        setTimeout(function () { note.remove(); }, 8000);
      }
      if (!conversationId || !saved.token) { fail(t('attachFirst')); return; }
      ui.attach.disabled = true;
      var form = new FormData();
      form.append('file', file, file.name);
      fetch(ORIGIN + '/api/v1/conversations/' + encodeURIComponent(conversationId) + '/attachments', {
        method: 'POST', mode: 'cors', body: form, headers: { 'Accept': 'application/json', 'Authorization': 'Bearer ' + saved.token }
      }).then(function (r) {
        return r.text().then(function (body) {
          var json = null;
          try { json = body ? JSON.parse(body) : null; } catch (e) { json = null; }
          return { ok: r.ok, status: r.status, body: json };
        });
      }, function () { return { ok: false, status: 0, body: null }; }).then(function (r) {
        ui.attach.disabled = false;
        if (r.ok && r.body && r.body.attachmentId) {
          note.remove();
          var a = K.attachmentSend(r.body);
          send(a.text, a.content, a.shown);
          return;
        }
        fail(r.status === 413 ? t('tooLarge') : r.status === 415 ? t('badType') : t('error'));
      });
    }

    function sendText(text) { send(K.wellFormed(text)); }

    function send(text, content, shown) {
      var entry = addPending(text, content, shown);
      ensureVisitor().then(function () {
        if (conn.open) { outbox.pump(); } else { connect(); }
      }, function () { outbox.fail(entry); });
    }

    function onPrechatSubmit(e) {
      e.preventDefault();
      var name = ui.prechatName.value.trim();
      var email = ui.prechatEmail.value.trim();
      if (email && email.indexOf('@') < 1) { ui.prechatError.textContent = t('invalidEmail'); ui.prechatError.hidden = false; return; }
      saved.name = name;
      saved.email = email || undefined;
      persist();
      ensureVisitor().then(function () { setView('chat'); connect(); ui.input.focus(); }, function () {
        ui.prechatError.textContent = t('error');
        ui.prechatError.hidden = false;
      });
    }

    function onOfflineSubmit(e) {
      e.preventDefault();
      ui.offButton.disabled = true;
      var name = ui.offName.value.trim();
      var email = ui.offEmail.value.trim();
      api('POST', '/api/v1/widget/' + encodeURIComponent(cfg.key) + '/messages',
        { name: name, email: email, text: K.wellFormed(ui.offText.value), locale: lang }).then(function (r) {
        if (r.ok && r.body && r.body.token) {
          // A visitor like any other from now on: the token is kept, so this page (now or after a reload) shows the
          // conversation, and the agent's reply when it comes.
          saved = { name: name, email: email, visitorId: r.body.visitorId, token: r.body.token, conversationId: r.body.conversationId };
          persist();
          identify(); // a signed-in customer's message is theirs (their contact's) like any other conversation
          conversationId = r.body.conversationId;
          ui.offText.value = '';
          ui.notice.textContent = t('left');
          ui.notice.hidden = false;
          setView('chat');
          connect();
        } else if (r.status === 404 && r.body && r.body.code === 'not_found') {
          chatUnavailable(unknownKeyWarning());
        } else {
          ui.offError.textContent = (r.body && r.body.detail) || t('error');
          ui.offError.hidden = false;
          ui.offButton.disabled = false;
        }
      });
    }

    // ---------------------------------------------------------------- composer extras (composer-kit.js)
    // The emoji picker and pasting or dropping images, loaded next to kefu-client.js; the chat works without them.
    Object.assign(STRINGS.en, {
      'emoji.open': 'Insert an emoji', 'emoji.title': 'Emoji', 'emoji.smileys': 'Smileys', 'emoji.gestures': 'Gestures',
      'emoji.symbols': 'Symbols', 'emoji.objects': 'Objects', 'paste.uploading': 'Uploading {name}…'
    });
    Object.assign(STRINGS['zh-CN'], {
      'emoji.open': '插入表情', 'emoji.title': '表情', 'emoji.smileys': '笑脸', 'emoji.gestures': '手势',
      'emoji.symbols': '符号', 'emoji.objects': '物品', 'paste.uploading': '正在上传 {name}…'
    });
    import(new URL('composer-kit.js', MODULE).href).then(function (C) { C.enhanceWidget({ root: root, ui: ui, t: t }); }, function () { });

    // ---------------------------------------------------------------- start
    document.addEventListener('visibilitychange', markRead);
    if (window.visualViewport) {
      window.visualViewport.addEventListener('resize', fitViewport);
      window.visualViewport.addEventListener('scroll', fitViewport);
    }

    setView('chat');
    var firstInfo = loadInfo();
    firstInfo.then(mountNow, mountNow);
    firstInfo.then(identify).then(function () {
      if (saved.token && !unavailable) { connect(); }
      if (cfg.open && !isOpen()) { toggle(); } else if (isOpen()) { chooseView(); }
    });

    window.KefuWidget.open = function () { if (!isOpen()) { toggle(); } };
    window.KefuWidget.close = function () { if (isOpen()) { toggle(); } };
    window.KefuWidget.toggle = toggle;
    early.forEach(function (call) { window.KefuWidget[call](); });
  }
})();
