/* Kefu agent console: plain JavaScript, no framework, no build step (an ES module).
 * Talks to the gateway's v1 HTTP API and WebSocket (docs/protocol.md, docs/contact-centre.md); the connection, resume
 * and ordered outbox are the module shared with the visitor widget (/kefu-client.js).
 * Every piece of user data is rendered with textContent, never as HTML. */
import * as K from '../kefu-client.js';
import * as Avatars from './avatars.js';
import * as InboxPreview from './inbox-preview.js';
import * as Composer from './composer.js';
import { installShortcuts } from './shortcuts.js';
import { createActivity } from './timeline.js';
import { fillInboxEmail, inboxEmailRequest, initInboxEmail } from './email.js';
import { t, t as i18nText, tv, problem, applyTranslations, applyPreferences, fmtTime as i18nTime, fmtDuration, fmtWeekday } from './i18n.js';
import { loadPreferences, attachPreferences } from './preferences.js';

(function () {
  'use strict';

  var STORE = 'kefu.console';
  var PAGE = 50;
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ helpers
  function h(tag, props, children) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === 'text') { el.textContent = v; }
        else if (k === 'class') { el.className = v; }
        else if (k.slice(0, 2) === 'on') { el.addEventListener(k.slice(2), v); }
        else if (k === 'value') { el.value = v; }
        else { el.setAttribute(k, v === true ? '' : v); }
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined && c !== false) { el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); }
    });
    return el;
  }
  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }
  // Dates, times and durations in the agent's language and time zone (i18n.js).
  function fmtTime(ts) { return i18nTime(ts); }
  function fmtSeconds(s) { return fmtDuration(s); }
  function listOf(body) {
    if (!body) { return []; }
    if (Array.isArray(body)) { return body; }
    for (var i = 1; i < arguments.length; i++) { if (Array.isArray(body[arguments[i]])) { return body[arguments[i]]; } }
    return [];
  }
  var toastTimer = null;
  function toast(text, isError) {
    var el = $('toast');
    el.textContent = text;
    el.className = 'toast' + (isError ? ' error' : '');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, isError ? 6000 : 2500);
  }
  function problemText(r, fallback) {
    return problem(r, fallback);
  }

  // ------------------------------------------------------------------ session and HTTP
  var ENDED = t('login.ended');
  var session = null;
  var endedMessage = sessionStorage.getItem(STORE + '.ended');
  sessionStorage.removeItem(STORE + '.ended');
  try { session = JSON.parse(localStorage.getItem(STORE) || 'null'); } catch (e) { session = null; }
  if (session && (!session.token || Date.parse(session.expiresAt) < Date.now() + 60000)) {
    session = null;
    localStorage.removeItem(STORE);
    endedMessage = endedMessage || ENDED;
  }

  function claims(token) {
    try { return JSON.parse(decodeURIComponent(escape(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))))); } catch (e) { return {}; }
  }

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    if (session) { headers.Authorization = 'Bearer ' + session.token; }
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (r.status === 401 && session && path !== '/api/v1/auth/login') { endSession(ENDED); }
          return { ok: r.ok, status: r.status, body: json };
        });
      }, function () { return { ok: false, status: 0, body: { detail: t('error.unreachable') } }; });
  }

  // ------------------------------------------------------------------ login
  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var username = $('login-username').value.trim();
    var password = $('login-password').value;
    var tenant = $('login-tenant').value.trim();
    var error = $('login-error');
    error.hidden = true;
    if (!username || !password) {
      error.textContent = t('login.missing');
      error.hidden = false;
      return;
    }
    $('login-submit').disabled = true;
    if (window.Notification && Notification.permission === 'default') {
      try { Notification.requestPermission(); } catch (x) { /* older browsers */ }
    }
    unlockAudio();
    api('POST', '/api/v1/auth/login', { username: username, password: password, tenant: tenant || undefined }).then(function (r) {
      $('login-submit').disabled = false;
      if (!r.ok) {
        error.textContent = r.status === 401 ? t('login.wrong') : problemText(r, t('login.failed'));
        error.hidden = false;
        $('login-password').select();
        return;
      }
      session = { agentId: r.body.agentId };
      adoptToken(r.body);
      $('login-password').value = '';
      start();
    });
  });

  // Back to the sign-in screen, with a message saying why when it was not the agent's choice (shown after the reload).
  function endSession(message) {
    session = null;
    localStorage.removeItem(STORE);
    stopSocket();
    if (message) { sessionStorage.setItem(STORE + '.ended', message); }
    location.reload();
  }
  $('logout').addEventListener('click', function () {
    // Revokes every token of this agent on the server (docs/protocol.md); keepalive lets it finish during the reload.
    if (session) {
      try { fetch('/api/v1/auth/logout', { method: 'POST', keepalive: true, headers: { Authorization: 'Bearer ' + session.token } }).catch(function () { }); } catch (e) { /* best effort */ }
    }
    endSession(null);
  });

  // ------------------------------------------------------------------ token renewal
  // A token is renewed while the console is open once less than a third of its lifetime is left. The lifetime comes
  // from the token itself (exp - iat, both the server's clock) and the renewal time is on this browser's clock, so a
  // skewed clock changes nothing.
  function adoptToken(body) {
    session.token = body.token;
    session.expiresAt = body.expiresAt;
    if (body.agentId) { session.agentId = body.agentId; }
    session.refreshAt = Date.now() + tokenLifetime(body.token, body.expiresAt) * 2 / 3;
    localStorage.setItem(STORE, JSON.stringify(session));
  }
  function tokenLifetime(token, expiresAt) {
    var c = claims(token);
    var lifetime = c.exp && c.iat ? (c.exp - c.iat) * 1000 : Date.parse(expiresAt) - Date.now();
    return lifetime > 0 ? lifetime : 0;
  }
  var refreshing = false;
  function maybeRefresh() {
    if (!session || refreshing) { return; }
    if (!session.refreshAt) { session.refreshAt = Date.parse(session.expiresAt) - tokenLifetime(session.token, session.expiresAt) / 3; }
    if (Date.now() < session.refreshAt) { return; }
    refreshing = true;
    api('POST', '/api/v1/auth/refresh').then(function (r) {
      refreshing = false;
      // 401 ended the session (api); anything else is tried again at the next tick.
      if (r.ok && r.body && r.body.token && session) { adoptToken(r.body); }
    });
  }
  setInterval(maybeRefresh, 30000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { maybeRefresh(); } });

  // ------------------------------------------------------------------ app state
  var me = { agentId: null, name: '', role: 'agent', status: 'online' };
  var conversations = {};      // id -> conversation (latest state)
  var filter = 'mine';
  var teamFilter = '';
  var agents = [];
  var teams = [];
  var canned = [];
  var current = null;          // the open conversation's view state
  var soundOn = localStorage.getItem(STORE + '.sound') !== 'off';

  function isAdmin() { return me.role === 'admin'; }

  // The agent's preferences (language, time zone) apply before anything is drawn: in another language than this page
  // was loaded in, the page loads again in it (remembered, so once), with the session it already has.
  function start() {
    loadPreferences(api).then(function (prefs) {
      if (prefs && applyPreferences(prefs)) { location.reload(); return; }
      applyTranslations(document);
      startSignedIn();
    });
  }

  function startSignedIn() {
    var c = claims(session.token);
    me.agentId = session.agentId || c.sub;
    me.name = c.name || me.agentId;
    me.role = c.role || 'agent';
    $('login').hidden = true;
    $('app').hidden = false;
    $('me-name').textContent = me.name;
    Array.prototype.forEach.call(document.querySelectorAll('[data-admin]'), function (b) { b.hidden = !isAdmin(); });
    $('sound-toggle').setAttribute('aria-pressed', String(soundOn));
    $('sound-toggle').textContent = soundOn ? t('me.sound_on') : t('me.sound_off');
    loadMe();
    loadDirectory();
    loadConversations();
    connect();
    maybeRefresh();
  }

  function loadMe() {
    api('GET', '/api/v1/agents/me').then(function (r) {
      if (r.ok && r.body) {
        me.name = r.body.displayName || me.name;
        $('me-name').textContent = me.name;
        Avatars.mountMe($('me-name'), r.body, function () { return session ? session.token : ''; }, function () { loadAgents(true).then(loadMe); });
        if (r.body.status) { showPresence(r.body.status); }
      }
    });
  }

  function loadAgents(rebuild) {
    return api('GET', '/api/v1/agents').then(function (r) {
      if (!r.ok) { return; }
      agents = listOf(r.body, 'agents');
      Avatars.setAgents(agents);
      renderTransferTargets();
      renderAdminAgents(rebuild);
      if (current) { renderChatHeader(); renderDetails(); }
      renderList();
    });
  }
  // Agents' statuses change without an event to this console: while the Agents page or a conversation (its transfer
  // list) is shown, they are read again every few seconds, and at once when the transfer list is opened.
  var AGENTS_EVERY = 5000;
  setInterval(function () {
    if (!session || document.hidden) { return; }
    if (!$('view-agents').hidden || (current && !$('view-conversations').hidden)) { loadAgents(false); }
  }, AGENTS_EVERY);
  $('transfer-target').addEventListener('focus', function () { loadAgents(false); });

  function loadDirectory() {
    loadAgents(true);
    api('GET', '/api/v1/teams').then(function (r) {
      if (r.ok) { teams = listOf(r.body, 'teams'); } else { teams = []; }
      var sel = $('team-filter');
      clear(sel);
      sel.appendChild(h('option', { value: '', text: '—' }));
      teams.forEach(function (t) { sel.appendChild(h('option', { value: t.teamId, text: t.name || t.teamId })); });
      sel.value = teamFilter;
      renderTransferTargets();
      renderAdminTeams();
    });
    api('GET', '/api/v1/canned-replies').then(function (r) { canned = r.ok ? listOf(r.body, 'cannedReplies', 'replies', 'items') : []; renderAdminCanned(); });
  }

  // ------------------------------------------------------------------ navigation
  Array.prototype.forEach.call(document.querySelectorAll('#nav button'), function (b) {
    b.addEventListener('click', function () { showView(b.getAttribute('data-view')); });
  });
  function showView(name) {
    ['conversations', 'agents', 'teams', 'inboxes', 'canned'].forEach(function (v) { $('view-' + v).hidden = v !== name; });
    Array.prototype.forEach.call(document.querySelectorAll('#nav button'), function (b) {
      b.classList.toggle('active', b.getAttribute('data-view') === name);
    });
    // A view chosen from the Integrations menu: close the menu, and mark the menu as where the view lives.
    var menu = $('nav-integrations');
    if (menu) {
      menu.open = false;
      menu.classList.toggle('active', !!menu.querySelector('button[data-view="' + name + '"]'));
    }
    if (name === 'inboxes') { loadInboxes(); }
    if (name !== 'conversations') { loadDirectory(); }
  }

  // ------------------------------------------------------------------ conversation list
  Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (b) {
    b.addEventListener('click', function () {
      filter = b.getAttribute('data-filter');
      teamFilter = '';
      $('team-filter').value = '';
      markFilter();
      loadConversations();
    });
  });
  $('team-filter').addEventListener('change', function () {
    teamFilter = $('team-filter').value;
    filter = teamFilter ? 'team' : 'mine';
    markFilter();
    loadConversations();
  });
  function markFilter() {
    Array.prototype.forEach.call(document.querySelectorAll('.filters button'), function (b) {
      b.classList.toggle('active', b.getAttribute('data-filter') === filter);
      b.setAttribute('aria-selected', String(b.getAttribute('data-filter') === filter));
    });
  }

  function listQuery() {
    switch (filter) {
      case 'mine': return '?assignee=me';
      case 'unassigned': return '?assignee=unassigned';
      case 'queued': return '?status=queued';
      case 'resolved': return '?status=resolved';
      case 'team': return '?team=' + encodeURIComponent(teamFilter);
      default: return '';
    }
  }

  function matchesFilter(c) {
    switch (filter) {
      case 'mine': return c.assigneeId === me.agentId && c.status !== 'resolved';
      case 'unassigned': return !c.assigneeId && c.status !== 'resolved';
      case 'queued': return c.status === 'queued';
      case 'resolved': return c.status === 'resolved';
      case 'team': return c.team === teamFilter;
      default: return true;
    }
  }

  var listGeneration = 0, changes = 0;
  function loadConversations() {
    var generation = ++listGeneration;
    var changesBefore = changes;
    api('GET', '/api/v1/conversations' + listQuery()).then(function (r) {
      if (generation !== listGeneration) { return; }
      if (!r.ok) { toast(problemText(r, t('list.load_failed')), true); return; }
      // The directory behind the list lags the events a little: what an event brought stays, and an event since the
      // request is newer than the list's row.
      listOf(r.body, 'conversations').forEach(function (c) {
        var known = conversations[c.conversationId];
        if (known && (known.touched || 0) > changesBefore) { return; }
        if (known && current && current.id === c.conversationId) { c.unread = 0; }
        upsertConversation(c, false, true);
      });
      renderList();
    });
  }

  function lastActivity(c) { return Date.parse(c.lastActivityAt || c.createdAt) || 0; }
  // As the API lists them: queued conversations first, the longest waiting on top; then the others, latest activity first.
  function listOrder(a, b) {
    var qa = a.status === 'queued', qb = b.status === 'queued';
    if (qa !== qb) { return qa ? -1 : 1; }
    if (qa) { return (Date.parse(a.queuedAt || a.createdAt) || 0) - (Date.parse(b.queuedAt || b.createdAt) || 0); }
    return lastActivity(b) - lastActivity(a);
  }
  function agentName(id) {
    if (!id) { return null; }
    if (id === me.agentId) { return me.name || id; }
    var a = agents.filter(function (x) { return x.agentId === id; })[0];
    return (a && a.displayName) || id;
  }
  function assigneeLabel(c) { return c.assigneeId ? (c.assigneeId === c.assigneeNameFor && c.assigneeName) || agentName(c.assigneeId) : null; }
  function visitorLabel(c) {
    var v = current && current.conv === c && current.visitor;
    return c.visitorName || (v && v.name) || t('visitor.anonymous', { id: (c.visitorId || '').slice(-6) });
  }

  function renderList() {
    var ul = $('conversation-list');
    clear(ul);
    var items = Object.keys(conversations).map(function (k) { return conversations[k]; }).filter(matchesFilter);
    items.sort(listOrder);
    items.forEach(function (c) {
      var unread = c.unread || 0;
      var li = h('li', { class: 'conv' + (current && current.id === c.conversationId ? ' active' : '') + (unread ? ' has-unread' : ''),
        'data-id': c.conversationId, tabindex: '0', role: 'button' }, [
        h('div', { class: 'conv-top' }, [
          h('span', { class: 'conv-name', text: visitorLabel(c) }),
          unread ? h('span', { class: 'badge', 'aria-label': t('list.unread', { n: unread }), text: String(unread) }) : null
        ]),
        h('div', { class: 'conv-preview', text: c.preview || '' }),
        h('div', { class: 'conv-meta' }, [
          h('span', { class: 'pill status-' + c.status, text: tv('status', c.status) }),
          c.priority && c.priority !== 'normal' ? h('span', { class: 'pill priority-' + c.priority, text: tv('priority', c.priority) }) : null,
          c.queuePosition ? h('span', { class: 'muted small', text: t('list.queue_position', { n: c.queuePosition }) }) : null,
          h('span', { class: 'muted small conv-assignee', text: c.assigneeId ? '→ ' + assigneeLabel(c) : t('list.unassigned') }),
          h('span', { class: 'muted small right conv-time', 'data-ts': c.lastActivityAt || c.createdAt, text: fmtTime(c.lastActivityAt || c.createdAt) })
        ])
      ]);
      li.addEventListener('click', function () { openConversation(c.conversationId); });
      li.addEventListener('keydown', function (e) { if (e.key === 'Enter') { openConversation(c.conversationId); } });
      ul.appendChild(li);
    });
    $('list-empty').hidden = items.length > 0;
    updateTitle();
  }

  // Fields a `conversation` frame leaves out when unset (docs/protocol.md §6.4): absent means cleared, not unchanged.
  var OPTIONAL = ['assigneeId', 'team', 'queuePosition', 'snoozedUntil', 'firstResponseSeconds', 'resolutionSeconds', 'csat'];
  function upsertConversation(c, fromFrame, quiet) {
    var known = conversations[c.conversationId];
    var isNew = !known;
    if (known && fromFrame) { OPTIONAL.forEach(function (k) { if (!(k in c)) { delete known[k]; } }); }
    if (c.status && c.status !== 'queued') { c.queuePosition = null; }
    if (c.assigneeName !== undefined || c.assigneeId !== undefined) { c.assigneeNameFor = c.assigneeName ? c.assigneeId : null; }
    var merged = Object.assign(known || {}, c);
    if (c.unread === undefined && known) { merged.unread = known.unread; }
    if (!quiet) { merged.touched = ++changes; }
    conversations[c.conversationId] = merged;
    if (isNew && !quiet && !c.assigneeId && c.status !== 'resolved') {
      notify(t('notify.new_conversation'), t('notify.waiting', { name: c.visitorName || t('visitor.someone') }), c.conversationId);
    }
    if (current && current.id === c.conversationId) { current.conv = merged; renderChatHeader(); renderDetails(); }
    if (!quiet) { renderList(); }
  }

  // The title counts unread messages in the agent's own conversations (assigned or joined), not in every visible one.
  function updateTitle() {
    var total = 0;
    Object.keys(conversations).forEach(function (k) {
      var c = conversations[k];
      if (c.assigneeId === me.agentId || (c.agentIds || []).indexOf(me.agentId) >= 0) { total += c.unread || 0; }
    });
    document.title = (total ? '(' + total + ') ' : '') + t('app.title');
  }

  // ------------------------------------------------------------------ notifications and sound
  var audio = null;
  function unlockAudio() {
    try { if (!audio && (window.AudioContext || window.webkitAudioContext)) { audio = new (window.AudioContext || window.webkitAudioContext)(); } } catch (e) { audio = null; }
  }
  document.addEventListener('click', unlockAudio, { once: true });
  function beep() {
    if (!soundOn || !audio) { return; }
    try {
      var o = audio.createOscillator();
      var g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio */ }
  }
  function notify(title, body, conversationId) {
    beep();
    if (window.Notification && Notification.permission === 'granted' && (document.hidden || !current || current.id !== conversationId)) {
      try {
        var n = new Notification(title, { body: body, tag: conversationId });
        n.onclick = function () { window.focus(); openConversation(conversationId); n.close(); };
      } catch (e) { /* notifications unavailable */ }
    }
  }
  $('sound-toggle').addEventListener('click', function () {
    soundOn = !soundOn;
    localStorage.setItem(STORE + '.sound', soundOn ? 'on' : 'off');
    $('sound-toggle').setAttribute('aria-pressed', String(soundOn));
    $('sound-toggle').textContent = soundOn ? t('me.sound_on') : t('me.sound_off');
    unlockAudio();
  });

  // ------------------------------------------------------------------ presence
  function showPresence(state) {
    me.status = state;
    $('presence').value = state === 'away' ? 'away' : 'online';
    $('presence-dot').className = 'dot ' + state;
  }
  $('presence').addEventListener('change', function () {
    var state = $('presence').value;
    if (!conn.send({ type: 'status', state: state })) {
      api('PUT', '/api/v1/agents/me/status', { status: state }).then(function (r) {
        if (r.ok) { showPresence(state); } else { toast(problemText(r), true); showPresence(me.status); }
      });
    }
  });

  // ------------------------------------------------------------------ the connection (kefu-client.js) and resume
  var conn = K.createConnection({
    url: function () { return session ? location.origin.replace(/^http/, 'ws') + '/ws?access_token=' + encodeURIComponent(session.token) : null; },
    canConnect: function () { return !!session; },
    onConnecting: function () { setConnection('connecting'); },
    onOpen: function () {
      setConnection('online');
      if (current) { resumeConversation(); }
      outbox.pump();
      loadConversations();
      loadMe(); // connected: the status the server now has (offline until this connection)
    },
    onFrame: onFrame,
    onDrop: function () {
      if (current) { current.timeline.reset(); current.joined = false; }
      // Joins and in-flight sends belong to one socket: the next one joins again and re-sends from the outbox's head.
      joinedOn = {};
      joinAsked = {};
      lastJoin = null;
      outbox.dropped();
      if (session) { setConnection('offline'); }
    },
    onHeartbeat: function () { outbox.heartbeat(); },
    // Closed before it ever opened (the upgrade may have been refused: 401, a token no longer valid, which a browser
    // cannot see), or closed because the session ended: ask over HTTP. A 401 there ends the session at once (api);
    // anything else is a network problem, retried.
    refused: function () { return api('GET', '/api/v1/agents/me').then(function (r) { return r.status !== 401; }); }
  });
  // Every reply of every conversation goes through one ordered outbox (kefu-client.js): only its head is on the wire,
  // so the server stores replies in the order they were typed, whatever the frame limit. A reply waits for its
  // conversation to be joined on this socket.
  var outbox = K.createOutbox({
    conn: conn,
    ready: function (head) {
      if (joinedOn[head.conversationId]) { return true; }
      requestJoin(head.conversationId);
      return false;
    },
    onFail: function (entry) { if (entry.el) { setMsgState(entry, 'failed'); } }
  });
  var replies = [];           // unacked replies shown (failed ones too), in the order shown
  var joinedOn = {}, joinAsked = {}, lastJoin = null;
  var attachments = K.createAttachments('', function () { return session ? session.token : ''; });
  function connect() { conn.connect(); }
  function stopSocket() { conn.stop(); }

  function setConnection(state) {
    var el = $('connection');
    el.className = 'connection ' + state;
    el.textContent = state === 'online' ? '' : state === 'connecting' ? t('conn.connecting') : t('conn.offline');
  }
  function findReply(clientMsgId) { return replies.filter(function (x) { return x.clientMsgId === clientMsgId; })[0] || null; }
  function dropReply(entry) { var i = replies.indexOf(entry); if (i >= 0) { replies.splice(i, 1); } }

  // The activity timeline and @mentions (console/timeline.js).
  var activity = createActivity({ api: api, currentId: function () { return current ? current.id : null; }, me: function () { return me; },
    agents: function () { return agents; }, openConversation: openConversation, notify: notify, log: function () { return $('log'); } });

  function onFrame(f) {
    activity.onFrame(f);
    switch (f.type) {
      case 'conversation': upsertConversation(f, true); break;
      case 'message': onMessage(f); break;
      case 'ack': onAck(f); break;
      case 'joined':
        joinedOn[f.conversationId] = true;
        delete joinAsked[f.conversationId];
        if (current && current.id === f.conversationId) {
          current.joined = true;
          hideBanner();
          renderChatHeader();
          requestSync();
          if (document.activeElement === input && input.value.trim()) { startTyping(); }
        }
        // Unacked sends go (again) with their original clientMsgId: a stored one just gets its first ack back.
        outbox.pump();
        break;
      case 'synced':
        // A paged catch-up (docs/protocol.md §5.3): the timeline asks for the next page from where this one ended.
        if (current && current.id === f.conversationId && current.timeline.synced(f)) { sendRead(); }
        break;
      case 'typing': onTyping(f); break;
      case 'read': onRead(f); break;
      case 'note': onNote(f); break;
      case 'status': showPresence(f.state); break;
      case 'queue': {
        var q = conversations[f.conversationId];
        if (q && q.status === 'queued') { q.queuePosition = f.position; renderList(); if (current && current.id === f.conversationId) { renderDetails(); } }
        break;
      }
      case 'error': onError(f); break;
      default: break;
    }
  }

  function onError(f) {
    // A reply refused for now is held at the head and retried (nothing after it goes first); refused for good, it fails.
    var p = outbox.error(f);
    if (p && (f.code === 'rate_limited' || f.code === 'unavailable')) { return; }
    if (!p && (f.code === 'not_allowed' || f.code === 'at_capacity') && !f.ref && lastJoin) {
      joinRefused(lastJoin, f);
      return;
    }
    if (f.code !== 'rate_limited') { toast(frameError(f), true); }
  }

  // A refused join (at capacity, or assigned to someone else): what waited for it goes back into the composer, and
  // the chat says why, with a way to take it over once possible, instead of messages marked "not sent".
  function joinRefused(id, f) {
    delete joinAsked[id];
    lastJoin = null;
    var waiting = outbox.entries.filter(function (x) { return x.conversationId === id; });
    waiting.forEach(function (x) { outbox.remove(x); dropReply(x); if (x.el) { x.el.remove(); } });
    if (!current || current.id !== id) { if (waiting.length) { toast(frameError(f), true); } outbox.pump(); return; }
    current.joined = false;
    current.wantJoin = false;
    var text = waiting.map(function (x) { return x.text; }).join('\n');
    if (text && !input.value) { input.value = text; }
    showBanner(f.code === 'at_capacity'
      ? t('chat.at_capacity')
      : (f.message ? frameError(f) : t('chat.not_allowed')), f.code === 'at_capacity' ? t('chat.take_over') : null);
    renderChatHeader();
    outbox.pump();
  }
  // An error frame's text: the server's English message, or in another language the translation of its code.
  function frameError(f) { return problem({ status: 400, body: { code: f.code, detail: f.message || f.code } }); }
  function showBanner(text, action) {
    var b = $('chat-banner');
    clear(b);
    b.appendChild(h('span', { text: text }));
    if (action) {
      b.appendChild(h('button', { type: 'button', class: 'primary', id: 'take-over', text: action, onclick: function () {
        if (current) { hideBanner(); current.wantJoin = true; requestJoin(current.id); }
      } }));
    }
    b.hidden = false;
  }
  function hideBanner() { $('chat-banner').hidden = true; }

  // ------------------------------------------------------------------ chat view
  // Other console modules (search.js) open a conversation through this event.
  document.addEventListener('kefu:open-conversation', function (e) { if (session && e.detail && e.detail.conversationId) { openConversation(e.detail.conversationId); } });

  function openConversation(id) {
    showView('conversations');
    if (current && current.id === id) { return; }
    stopTyping();
    var conv = conversations[id] || { conversationId: id };
    var timeline = K.createTimeline(conn, id);
    current = { id: id, conv: conv, timeline: timeline, bySeq: timeline.bySeq, top: 0, joined: !!joinedOn[id],
      visitorRead: 0, readSent: 0, notes: {}, generation: (current ? current.generation : 0) + 1 };
    conv.unread = 0;
    var log = $('log');
    Array.prototype.slice.call(log.querySelectorAll('.msg, .note, .day')).forEach(function (n) { n.remove(); });
    activity.open(id);
    $('load-earlier').hidden = true;
    $('typing').hidden = true;
    $('chat-empty').hidden = true;
    $('chat-main').hidden = false;
    $('details').hidden = false;
    $('contact-panel').hidden = true; // until this conversation's contact (if any) is loaded
    hideBanner();
    setMode('reply');
    renderChatHeader();
    renderDetails();
    renderList();
    var state = current;
    api('GET', '/api/v1/conversations/' + encodeURIComponent(id)).then(function (r) {
      if (state !== current) { return; }
      if (r.ok && r.body) { upsertConversation(Object.assign(r.body, { unread: 0 })); }
      loadVisitor(state);
      var last = (state.conv && state.conv.lastSeq) || 0;
      var after = Math.max(0, last - PAGE);
      return api('GET', '/api/v1/conversations/' + encodeURIComponent(id) + '/messages?after=' + after + '&limit=' + PAGE).then(function (m) {
        if (state !== current) { return; }
        if (!m.ok) { toast(problemText(m, t('chat.load_failed')), true); return; }
        state.top = after + 1;
        state.timeline.contiguous = after;
        listOf(m.body, 'messages').forEach(showMessage);
        // Replies typed here earlier and not yet stored are still in the outbox: show them after the history.
        replies.forEach(function (x) { if (x.conversationId === state.id && x.el) { $('log').appendChild(x.el); } });
        $('load-earlier').hidden = state.top <= 1;
        scrollDown(true);
        loadNotes(state);
        loadReadMark(state);
        resumeConversation();
      });
    });
  }

  // How far the visitor has read, from the server: "read" shows at once, not only after the next read frame.
  function loadReadMark(state) {
    api('GET', '/api/v1/conversations/' + encodeURIComponent(state.id) + '/read').then(function (r) {
      if (state !== current || !r.ok || !r.body) { return; }
      onRead({ conversationId: state.id, reader: { role: 'visitor' }, seq: r.body.visitorReadSeq || 0 });
    });
  }

  // The visitor's name, email and attributes (pre-chat or leave-a-message form, or the API) for the details pane.
  function loadVisitor(state) {
    var visitorId = state.conv && state.conv.visitorId;
    if (!visitorId) { return; }
    api('GET', '/api/v1/visitors/' + encodeURIComponent(visitorId)).then(function (r) {
      if (state !== current || !r.ok || !r.body) { return; }
      state.visitor = r.body;
      renderChatHeader();
      renderDetails();
      loadContact(state);
    });
  }

  // An identified visitor (the website's signed-in customer) is a contact: the business's id for them, what it knows
  // about them (attributes set by its systems), and their past conversations.
  function loadContact(state) {
    var contactId = state.visitor && state.visitor.contactId;
    if (!contactId) { renderContact(); return; }
    api('GET', '/api/v1/contacts/' + encodeURIComponent(contactId)).then(function (r) {
      if (state !== current) { return; }
      state.contact = r.ok ? r.body : null;
      renderContact();
      loadCrm(state);
      var ids = ((state.contact && state.contact.conversationIds) || []).slice(-20);
      ids.forEach(function (id) {
        if (id === state.id || (conversations[id] && conversations[id].createdAt)) { return; }
        api('GET', '/api/v1/conversations/' + encodeURIComponent(id)).then(function (c) {
          if (state !== current || !c.ok || !c.body) { return; }
          state.pastConversations = state.pastConversations || {};
          state.pastConversations[id] = c.body;
          renderContact();
        });
      });
    });
  }

  function renderContact() {
    var panel = $('contact-panel');
    var contact = current && current.contact;
    panel.hidden = !contact;
    if (!contact) { return; }
    var dl = $('contact-fields');
    clear(dl);
    function row(k, v) { dl.appendChild(h('dt', { text: k })); dl.appendChild(h('dd', { text: v === null || v === undefined || v === '' ? '—' : String(v) })); }
    row(t('common.name'), contact.name);
    row(t('common.email'), contact.email);
    row(t('contact.external_id'), contact.externalId);
    Object.keys(contact.attributes || {}).sort().forEach(function (k) { row(k, contact.attributes[k]); });
    var list = $('contact-conversations');
    clear(list);
    var ids = (contact.conversationIds || []).slice(-20).reverse(); // newest first
    ids.forEach(function (id) {
      var known = (current.pastConversations && current.pastConversations[id]) || conversations[id] || {};
      var label = (known.createdAt ? fmtTime(known.createdAt) : id.slice(-6)) + (known.status ? ' · ' + tv('status', known.status) : '');
      if (id === current.id) {
        list.appendChild(h('li', { class: 'current', 'data-conversation': id, text: t('contact.this', { label: label }) }));
      } else {
        list.appendChild(h('li', { 'data-conversation': id }, [h('button', { type: 'button', class: 'ghost', text: label, onclick: function () { openConversation(id); } })]));
      }
    });
    if (!ids.length) { list.appendChild(h('li', { class: 'muted', text: t('contact.none') })); }
  }

  // Where the contact stands in each CRM the tenant syncs to (issue #17): a badge per CRM, what went wrong, and for
  // admins a retry (failed, dead) or a choice per field (conflict). Refreshed while something is on its way.
  var CRM_LABELS = { in_sync: 'crm.in_sync', pending: 'crm.pending', failed: 'crm.failed', conflict: 'crm.conflict', dead: 'crm.dead' };
  function loadCrm(state) {
    var contactId = state.contact && state.contact.id;
    if (!contactId) { return; }
    clearTimeout(state.crmTimer);
    api('GET', '/api/v1/contacts/' + encodeURIComponent(contactId) + '/crm').then(function (r) {
      if (state !== current || !r.ok || !r.body) { return; }
      renderCrm(state, r.body.records || []);
      if ((r.body.records || []).some(function (x) { return x.state === 'pending'; })) {
        state.crmTimer = setTimeout(function () { loadCrm(state); }, 2000);
      }
    });
  }

  function renderCrm(state, records) {
    var list = $('contact-crm');
    clear(list);
    list.hidden = !records.length;
    records.forEach(function (x) {
      var path = '/api/v1/crm/sync/' + encodeURIComponent(x.crm) + '/' + x.kind + '/' + encodeURIComponent(x.recordId);
      var item = h('li', { 'data-crm': x.crm, 'data-state': x.state }, [
        h('span', { text: x.crm }),
        h('span', { class: 'crm-state ' + x.state, text: CRM_LABELS[x.state] ? t(CRM_LABELS[x.state]) : x.state })
      ]);
      if (x.lastError && x.state !== 'in_sync') {
        item.appendChild(h('span', { class: 'crm-error', text: x.lastError + (x.attempts ? t('crm.attempts', { n: x.attempts }) : '') }));
      }
      if (isAdmin() && (x.state === 'failed' || x.state === 'dead')) {
        item.appendChild(h('button', { type: 'button', class: 'ghost crm-retry', text: t('common.retry'), onclick: function () {
          api('POST', path + '/retry').then(function (r) {
            if (!r.ok) { toast(problemText(r, t('crm.retry_failed')), true); return; }
            loadCrm(state);
          });
        } }));
      }
      (x.conflicts || []).forEach(function (c) {
        var choose = function (side) {
          var fields = {}; fields[c.field] = side;
          api('POST', path + '/resolve', { fields: fields }).then(function (r) {
            if (!r.ok) { toast(problemText(r, t('crm.settle_failed')), true); return; }
            loadCrm(state);
          });
        };
        item.appendChild(h('span', { class: 'crm-error', text: t('crm.values', { field: c.field, local: c.local || '', crm: c.crm || '' }) }));
        if (isAdmin()) {
          item.appendChild(h('button', { type: 'button', class: 'ghost', text: t('crm.keep_kefu'), onclick: function () { choose('kefu'); } }));
          item.appendChild(h('button', { type: 'button', class: 'ghost', text: t('crm.use_crm'), onclick: function () { choose('crm'); } }));
        }
      });
      list.appendChild(item);
    });
  }

  function mayJoin(c) {
    return !c.assigneeId || c.assigneeId === me.agentId || (c.agentIds || []).indexOf(me.agentId) >= 0;
  }

  // After opening and after every reconnect: join (live events; harmless when already joined), catch up, re-send.
  function resumeConversation() {
    if (!current || !conn.open) { return; }
    if (mayJoin(current.conv) || current.joined || current.wantJoin) { requestJoin(current.id); }
    else { requestSync(); }
  }

  function requestSync() { if (current) { current.timeline.sync(); } }

  $('join-button').addEventListener('click', function () {
    if (current) { current.wantJoin = true; hideBanner(); requestJoin(current.id); }
  });

  $('load-earlier').addEventListener('click', function () {
    var state = current;
    if (!state || state.top <= 1) { return; }
    var after = Math.max(0, state.top - 1 - PAGE);
    var limit = state.top - 1 - after;
    var log = $('log');
    var oldHeight = log.scrollHeight;
    api('GET', '/api/v1/conversations/' + encodeURIComponent(state.id) + '/messages?after=' + after + '&limit=' + limit).then(function (r) {
      if (state !== current || !r.ok) { return; }
      state.top = after + 1;
      listOf(r.body, 'messages').forEach(showMessage);
      $('load-earlier').hidden = state.top <= 1;
      log.scrollTop = log.scrollHeight - oldHeight;
    });
  });

  function scrollDown(force) {
    var log = $('log');
    if (force || log.scrollHeight - log.scrollTop - log.clientHeight < 160) { log.scrollTop = log.scrollHeight; }
  }

  function messageElement(msg, mine) {
    var role = msg.sender ? msg.sender.role : 'agent';
    var el = h('div', { class: 'msg ' + role + (mine ? ' mine' : ''), 'data-ts': msg.ts || '' });
    var body = attachments.body(msg);
    el.setAttribute('data-kind', body.kind);
    el.appendChild(h('div', { class: body.kind === 'attachment' ? 'text attachment' : 'text' }, [body.node]));
    var who = role === 'visitor' ? (msg.sender.name || t('visitor.label')) : mine ? t('chat.you') : ((msg.sender && (msg.sender.name || msg.sender.id)) || '');
    el.appendChild(h('div', { class: 'meta' }, [h('span', { class: 'who', text: who }), h('span', { class: 'when', text: ' · ' + fmtTime(msg.ts) }), h('span', { class: 'state' })]));
    if (role === 'agent' && msg.sender && msg.sender.id) { el.lastChild.insertBefore(Avatars.forAgent(msg.sender.id, msg.sender.name, 'small'), el.lastChild.firstChild); }
    return el;
  }

  // A message moves the row's preview and time when it is the newest seen and a person wrote it (never the away text).
  function notePreview(c, msg) {
    if (!c) { return; }
    c.touched = ++changes;
    if (!msg.sender || (msg.sender.role !== 'visitor' && msg.sender.role !== 'agent')) { return; }
    if ((msg.seq || 0) < (c.previewSeq || 0)) { return; }
    c.previewSeq = msg.seq || 0;
    c.preview = K.previewText(msg);
    if (msg.ts) { c.lastActivityAt = msg.ts; }
  }
  function setMsgState(entry, state) {
    entry.el.setAttribute('data-state', state);
    var label = { sending: t('msg.sending'), sent: t('msg.sent'), read: t('msg.read'), failed: t('msg.failed') }[state] || '';
    var el = entry.el.querySelector('.state');
    clear(el);
    el.textContent = label;
    if (state === 'failed') {
      el.appendChild(h('button', { type: 'button', class: 'link retry', text: t('common.retry'), onclick: function () { retryMessage(entry); } }));
      el.appendChild(h('button', { type: 'button', class: 'link discard', text: t('msg.discard'), onclick: function () { discardMessage(entry); } }));
    }
  }

  function insertByOrder(el, seq) {
    var log = $('log');
    var after = current.timeline.after(seq);
    var next = after ? after.el : firstPendingElement();
    if (next && next !== el) { log.insertBefore(el, next); } else if (!next) { log.appendChild(el); }
  }

  function showMessage(msg) {
    var state = current;
    if (!state || msg.conversationId !== state.id || typeof msg.seq !== 'number' || state.bySeq[msg.seq]) { return false; }
    var mine = msg.sender && msg.sender.role === 'agent' && msg.sender.id === me.agentId;
    var entry = null;
    if (mine && msg.clientMsgId) {
      entry = findReply(msg.clientMsgId);
      // Stored (seen before its ack, e.g. by a sync): the next one may go.
      if (entry) { dropReply(entry); outbox.settle(entry); }
    }
    if (!entry) { entry = { msg: msg, el: messageElement(msg, mine), mine: mine }; }
    entry.msg = msg;
    entry.el.setAttribute('data-seq', String(msg.seq));
    entry.el.setAttribute('data-ts', msg.ts || '');
    insertByOrder(entry.el, msg.seq);
    if (msg.sender && msg.sender.role !== 'visitor') { setMsgState(entry, msg.seq <= state.visitorRead ? 'read' : 'sent'); }
    if (msg.seq < state.top) { state.top = msg.seq; }
    state.timeline.put(msg.seq, entry); // a gap: something was missed, the timeline syncs it
    placeNotes();
    notePreview(conversations[state.id], msg);
    return true;
  }

  function onMessage(f) {
    var c = conversations[f.conversationId];
    var fromVisitor = f.sender && f.sender.role === 'visitor';
    if (current && current.id === f.conversationId) {
      if (showMessage(f)) {
        scrollDown(false);
        if (fromVisitor) {
          $('typing').hidden = true;
          if (document.hidden) { if (c) { c.unread = (c.unread || 0) + 1; } notify(f.sender.name || t('visitor.label'), K.previewText(f), f.conversationId); }
          else if (!current.timeline.syncing) { beep(); }
        }
        sendRead();
        renderList();
      }
      return;
    }
    if (c) {
      notePreview(c, f);
      if (fromVisitor) { c.unread = (c.unread || 0) + 1; }
      if (f.seq > (c.lastSeq || 0)) { c.lastSeq = f.seq; }
    } else {
      loadConversations();
    }
    if (fromVisitor) { notify((f.sender && f.sender.name) || t('visitor.label'), K.previewText(f), f.conversationId); }
    renderList();
  }

  function sendRead() {
    var contiguous = current ? current.timeline.contiguous : 0;
    if (!current || !current.joined || document.hidden || contiguous <= current.readSent) { return; }
    current.readSent = contiguous;
    conn.send({ type: 'read', conversationId: current.id, seq: contiguous });
    var c = conversations[current.id];
    if (c && c.unread) { c.unread = 0; renderList(); }
  }
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && current) {
      var c = conversations[current.id];
      if (c) { c.unread = 0; }
      sendRead();
      renderList();
    }
  });

  function onAck(f) {
    var p = findReply(f.clientMsgId);
    if (!p) { return; }
    notePreview(conversations[p.conversationId], { sender: { role: 'agent' }, seq: f.seq, text: p.text, content: p.msg.content, ts: f.ts });
    if (current && current.id === p.conversationId) {
      if (current.timeline.has(f.seq)) { dropReply(p); p.el.remove(); }
      else {
        showMessage({ conversationId: f.conversationId, messageId: f.messageId, seq: f.seq, ts: f.ts, text: p.text, content: p.msg.content,
          clientMsgId: f.clientMsgId, sender: { role: 'agent', id: me.agentId, name: me.name } });
      }
      current.readSent = Math.max(current.readSent, f.seq); // sending marks everything up to it read
    } else { dropReply(p); }
    outbox.settle(p); // the next reply goes
    renderList();
  }

  function onRead(f) {
    if (!current || f.conversationId !== current.id || !f.reader || f.reader.role !== 'visitor') { return; }
    if (f.seq > current.visitorRead) {
      current.visitorRead = f.seq;
      Object.keys(current.bySeq).forEach(function (s) {
        var e = current.bySeq[s];
        if (+s <= f.seq && e.msg.sender && e.msg.sender.role !== 'visitor') { setMsgState(e, 'read'); }
      });
    }
  }

  var typingHide = null;
  function onTyping(f) {
    if (!current || f.conversationId !== current.id || !f.sender || f.sender.id === me.agentId) { return; }
    clearTimeout(typingHide);
    var el = $('typing');
    if (f.state === 'on') {
      el.textContent = t('chat.typing', { name: f.sender.name || (f.sender.role === 'visitor' ? t('visitor.label') : f.sender.id) });
      el.hidden = false;
      typingHide = setTimeout(function () { el.hidden = true; }, 8000);
    } else { el.hidden = true; }
  }

  // ------------------------------------------------------------------ notes
  function loadNotes(state) {
    api('GET', '/api/v1/conversations/' + encodeURIComponent(state.id) + '/notes').then(function (r) {
      if (state !== current || !r.ok) { return; }
      listOf(r.body, 'notes').forEach(function (n) { addNote(n); });
    });
  }
  function onNote(f) {
    if (current && f.conversationId === current.id && f.note) { addNote(Object.assign({ conversationId: f.conversationId }, f.note)); scrollDown(false); }
  }
  function addNote(n) {
    if (!current || current.notes[n.noteId]) { return; }
    var el = h('div', { class: 'note', 'data-note-id': n.noteId, 'data-ts': n.ts }, [
      h('div', { class: 'note-label', text: t('chat.note_label', { author: (n.author && (n.author.name || n.author.id)) || '', time: fmtTime(n.ts) }) }),
      activity.noteText(n.text)
    ]);
    current.notes[n.noteId] = { note: n, el: el };
    placeNotes();
  }
  // Notes have no seq: they sit in the timeline by time, after the messages sent before them.
  function placeNotes() {
    if (!current) { return; }
    var log = $('log');
    Object.keys(current.notes).forEach(function (id) {
      var item = current.notes[id];
      var t = Date.parse(item.note.ts);
      var next = null;
      var best = Infinity;
      Object.keys(current.bySeq).forEach(function (s) {
        var mt = Date.parse(current.bySeq[s].msg.ts);
        if (mt > t && +s < best) { best = +s; next = current.bySeq[s].el; }
      });
      if (!next) { next = firstPendingElement(); }
      if (next) { if (item.el.nextSibling !== next) { log.insertBefore(item.el, next); } } else if (item.el.parentNode !== log || item.el.nextSibling) { log.appendChild(item.el); }
    });
    activity.place();
  }

  // ------------------------------------------------------------------ composer: reply, note, canned, typing
  var mode = 'reply';
  function setMode(m) {
    mode = m;
    $('mode-reply').classList.toggle('active', m === 'reply');
    $('mode-note').classList.toggle('active', m === 'note');
    $('mode-reply').setAttribute('aria-selected', String(m === 'reply'));
    $('mode-note').setAttribute('aria-selected', String(m === 'note'));
    $('composer').classList.toggle('note-mode', m === 'note');
    $('composer-input').placeholder = m === 'note' ? t('chat.placeholder_note') : t('chat.placeholder_reply');
    $('send-button').textContent = m === 'note' ? t('chat.add_note') : t('chat.send');
  }
  $('mode-reply').addEventListener('click', function () { setMode('reply'); $('composer-input').focus(); });
  $('mode-note').addEventListener('click', function () { setMode('note'); stopTyping(); $('composer-input').focus(); });

  // Typing frames count against the connection's frame limit like sends, so they are throttled here: "on" at most
  // every 3 s, and no "off" when a message is sent (the message itself ends the typing on the other side).
  var TYPING_EVERY = 3000;
  var typingOn = false, typingIdle = null, typingSentAt = 0, suggestionIndex = 0, suggestions = [];
  var input = $('composer-input');
  input.addEventListener('input', function () {
    updateSuggestions();
    startTyping();
  });
  // Also when the join lands while the agent is already writing (typed right after opening the conversation): the
  // server refuses typing from an agent who has not joined, so keystrokes before the join said nothing.
  function startTyping() {
    if (mode !== 'reply' || !current || !current.joined) { return; }
    if (input.value.trim() && !typingOn && Date.now() - typingSentAt >= TYPING_EVERY) {
      typingOn = true;
      typingSentAt = Date.now();
      conn.send({ type: 'typing', conversationId: current.id, state: 'on' });
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 2500);
  }
  function stopTyping(sending) {
    clearTimeout(typingIdle);
    if (typingOn && current && sending !== true) { conn.send({ type: 'typing', conversationId: current.id, state: 'off' }); }
    typingOn = false;
  }

  function updateSuggestions() {
    var ul = $('canned-suggestions');
    var m = /^\/([^\n]*)$/.exec(input.value);
    if (!m) { ul.hidden = true; suggestions = []; return; }
    suggestions = Composer.matchCanned(canned, m[1], 8); // by shortcut, then by content (composer.js)
    clear(ul);
    suggestionIndex = 0;
    suggestions.forEach(function (c, i) {
      var li = h('li', { role: 'option', class: i === 0 ? 'active' : '', 'data-shortcut': c.shortcut }, [
        h('strong', { text: '/' + c.shortcut }), h('span', { text: ' ' + c.text })
      ]);
      li.addEventListener('mousedown', function (e) { e.preventDefault(); useCanned(c); });
      ul.appendChild(li);
    });
    ul.hidden = suggestions.length === 0;
  }
  function useCanned(c) {
    input.value = Composer.fillCanned(c.text, cannedVariables());
    $('canned-suggestions').hidden = true;
    suggestions = [];
    input.focus();
  }
  input.addEventListener('keydown', function (e) {
    if (suggestions.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        suggestionIndex = (suggestionIndex + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length;
        Array.prototype.forEach.call($('canned-suggestions').children, function (li, i) { li.classList.toggle('active', i === suggestionIndex); });
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); useCanned(suggestions[suggestionIndex]); return; }
      if (e.key === 'Escape') { $('canned-suggestions').hidden = true; suggestions = []; return; }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitComposer(); }
  });
  $('composer').addEventListener('submit', function (e) { e.preventDefault(); submitComposer(); });
  // What {{contact.name}}, {{contact.email}}, {{agent.name}} and {{conversation.id}} stand for in a canned reply.
  function cannedVariables() {
    var v = (current && current.visitor) || {}, contact = (current && current.contact) || {};
    return { 'contact.name': contact.name || v.name || (current && current.conv.visitorName) || '', 'contact.email': contact.email || v.email || '',
      'agent.name': me.name || '', 'conversation.id': current ? current.id : '' };
  }

  function submitComposer() {
    if (!current) { return; }
    var text = input.value;
    if (!text.trim()) { return; }
    // "/shortcut" typed in full and sent: expand it.
    var exact = /^\/(\S+)$/.exec(text.trim());
    if (exact) {
      var hit = canned.filter(function (c) { return c.shortcut === exact[1]; })[0];
      if (hit) { text = Composer.fillCanned(hit.text, cannedVariables()); }
    }
    input.value = '';
    $('canned-suggestions').hidden = true;
    if (mode === 'note') {
      var state = current;
      api('POST', '/api/v1/conversations/' + encodeURIComponent(state.id) + '/notes', { text: text }).then(function (r) {
        if (r.ok && r.body && state === current) { addNote(r.body); scrollDown(true); }
        else if (!r.ok) { toast(problemText(r, t('chat.note_failed')), true); input.value = text; }
      });
      return;
    }
    stopTyping(true);
    sendReply(text);
  }

  $('attach-button').addEventListener('click', function () { if (current) { $('attach-input').click(); } });
  $('attach-input').addEventListener('change', function () {
    var file = this.files && this.files[0];
    this.value = '';
    if (!file || !current || !session) { return; }
    var state = current;
    var status = $('upload-status');
    status.textContent = t('chat.uploading', { name: file.name });
    status.hidden = false;
    $('attach-button').disabled = true;
    var form = new FormData();
    form.append('file', file, file.name);
    fetch('/api/v1/conversations/' + encodeURIComponent(state.id) + '/attachments', {
      method: 'POST', body: form, headers: { 'Accept': 'application/json', 'Authorization': 'Bearer ' + session.token }
    }).then(function (r) {
      return r.text().then(function (body) {
        var json = null;
        try { json = body ? JSON.parse(body) : null; } catch (e) { json = null; }
        return { ok: r.ok, status: r.status, body: json };
      });
    }, function () { return { ok: false, status: 0, body: { detail: t('error.unreachable') } }; }).then(function (r) {
      $('attach-button').disabled = false;
      status.hidden = true;
      if (r.ok && r.body && r.body.attachmentId) {
        if (state === current) { var a = K.attachmentSend(r.body); sendReply(a.text, a.content, a.shown); }
        return;
      }
      toast(file.name + ': ' + (r.status === 413 ? t('chat.too_large') : r.status === 415 ? t('chat.bad_type') : '') +
        problemText(r, t('chat.upload_failed')), true);
    });
  });

  // content: typed content (an attachment) sent with the text; shown: how the reply shows until it is stored.
  function sendReply(text, content, shown) {
    var sender = { role: 'agent', id: me.agentId };
    var entry = { conversationId: current.id, clientMsgId: K.uuid(), text: text, content: content || null, mine: true,
      msg: { text: text, content: shown || null, ts: new Date().toISOString(), sender: sender } };
    entry.el = messageElement({ text: text, content: entry.msg.content, ts: entry.msg.ts, sender: sender }, true);
    entry.el.setAttribute('data-client-msg-id', entry.clientMsgId);
    replies.push(entry);
    $('log').appendChild(entry.el);
    setMsgState(entry, 'sending');
    scrollDown(true);
    if (!current.joined) { current.wantJoin = true; } // joined first (the outbox holds it until then), then sent
    outbox.push(entry);
  }

  function requestJoin(id) {
    if (!conn.open || joinAsked[id]) { return; }
    joinAsked[id] = true;
    lastJoin = id;
    conn.send({ type: 'join', conversationId: id });
  }

  // The first unacked reply of the open conversation shown in the log: acked messages go before it.
  function firstPendingElement() {
    if (!current) { return null; }
    var log = $('log');
    for (var i = 0; i < replies.length; i++) {
      if (replies[i].conversationId === current.id && replies[i].el && replies[i].el.parentNode === log) { return replies[i].el; }
    }
    return null;
  }

  function retryMessage(entry) {
    if (!entry.failed) { return; }
    dropReply(entry);
    entry.clientMsgId = K.uuid(); // a new send: it goes after what was typed since
    entry.el.setAttribute('data-client-msg-id', entry.clientMsgId);
    replies.push(entry);
    $('log').appendChild(entry.el);
    setMsgState(entry, 'sending');
    scrollDown(true);
    outbox.retry(entry);
  }
  function discardMessage(entry) {
    dropReply(entry);
    outbox.remove(entry);
    entry.el.remove();
  }

  // ------------------------------------------------------------------ header, actions, details
  function renderChatHeader() {
    if (!current) { return; }
    var c = current.conv;
    $('chat-title').textContent = visitorLabel(c);
    $('chat-subtitle').textContent = [tv('status', c.status), c.assigneeId ? t('chat.assigned_to', { name: assigneeLabel(c) }) : t('list.unassigned'), c.inbox ? t('chat.inbox', { inbox: c.inbox }) : '']
      .filter(Boolean).join(' · ');
    Avatars.assignee($('chat-subtitle'), c.assigneeId, assigneeLabel(c));
    var resolved = c.status === 'resolved';
    $('resolve-button').hidden = resolved;
    $('reopen-button').hidden = !(resolved || c.status === 'pending' || c.status === 'snoozed');
    $('join-button').hidden = current.joined || mayJoin(c);
    $('join-button').textContent = c.assigneeId ? t('chat.join') : t('chat.take');
  }

  function changeStatus(body) {
    if (!current) { return; }
    var id = current.id;
    api('POST', '/api/v1/conversations/' + encodeURIComponent(id) + '/status', body).then(function (r) {
      if (r.ok && r.body) { upsertConversation(r.body); toast(t('status.changed', { status: tv('status', r.body.status) })); }
      else { toast(problemText(r, t('chat.status_failed')), true); }
    });
  }
  $('resolve-button').addEventListener('click', function () { changeStatus({ status: 'resolved' }); });
  $('reopen-button').addEventListener('click', function () { changeStatus({ status: 'open' }); });
  $('snooze-select').addEventListener('change', function () {
    var v = $('snooze-select').value;
    $('snooze-select').value = '';
    if (!v) { return; }
    var d = new Date();
    if (v === '1h') { d = new Date(Date.now() + 3600e3); }
    else if (v === '4h') { d = new Date(Date.now() + 4 * 3600e3); }
    else if (v === 'week') { d = new Date(Date.now() + 7 * 24 * 3600e3); }
    else { d.setDate(d.getDate() + 1); d.setHours(9, 0, 0, 0); }
    changeStatus({ status: 'snoozed', snoozedUntil: d.toISOString() });
  });

  function renderDetails() {
    if (!current) { return; }
    var c = current.conv;
    var dl = $('details-list');
    clear(dl);
    function row(k, v) { dl.appendChild(h('dt', { text: k })); dl.appendChild(h('dd', { text: v === null || v === undefined || v === '' ? '—' : String(v) })); }
    var v = current.visitor || {};
    row(t('details.visitor'), visitorLabel(c));
    row(t('common.email'), v.email);
    Object.keys(v.attributes || {}).sort().forEach(function (k) { row(k, v.attributes[k]); });
    row(t('details.status'), c.snoozedUntil ? t('details.until', { status: tv('status', c.status), time: fmtTime(c.snoozedUntil) }) : tv('status', c.status));
    row(t('details.assignee'), assigneeLabel(c));
    row(t('details.inbox'), c.inbox);
    row(t('details.team'), c.team);
    if (c.queuePosition) { row(t('details.queue_position'), c.queuePosition); }
    row(t('details.first_response'), fmtSeconds(c.firstResponseSeconds));
    row(t('details.resolution'), fmtSeconds(c.resolutionSeconds));
    row(t('details.started'), fmtTime(c.createdAt));
    $('priority').value = c.priority || 'normal';
    var tags = $('tags');
    clear(tags);
    (c.tags || []).forEach(function (tag) {
      tags.appendChild(h('span', { class: 'tag' }, [tag, h('button', { type: 'button', 'aria-label': t('details.remove_tag', { tag: tag }), text: '×', onclick: function () {
        patch({ tags: (current.conv.tags || []).filter(function (x) { return x !== tag; }) });
      } })]));
    });
    var csat = $('csat');
    clear(csat);
    if (c.csat) {
      csat.appendChild(h('span', { class: 'label', text: t('details.rating') }));
      csat.appendChild(h('div', { class: 'stars', 'aria-label': t('details.rating_of', { n: c.csat.rating }), text: '★★★★★'.slice(0, c.csat.rating) + '☆☆☆☆☆'.slice(0, 5 - c.csat.rating) }));
      if (c.csat.comment) { csat.appendChild(h('p', { class: 'csat-comment', text: c.csat.comment })); }
    }
    csat.hidden = !c.csat;
  }

  function setDrawer(open) {
    $('details').classList.toggle('open', open);
    $('details-toggle').setAttribute('aria-expanded', String(open));
  }
  $('details-toggle').addEventListener('click', function () { setDrawer(!$('details').classList.contains('open')); });
  $('details-close').addEventListener('click', function () { setDrawer(false); $('details-toggle').focus(); });

  function patch(body) {
    if (!current) { return; }
    api('PATCH', '/api/v1/conversations/' + encodeURIComponent(current.id), body).then(function (r) {
      if (r.ok && r.body) { upsertConversation(r.body); } else { toast(problemText(r, t('details.update_failed')), true); renderDetails(); }
    });
  }
  $('priority').addEventListener('change', function () { patch({ priority: $('priority').value }); });
  $('tag-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var tag = $('tag-input').value.trim().toLowerCase();
    if (!tag || !current) { return; }
    $('tag-input').value = '';
    var tags = (current.conv.tags || []).slice();
    if (tags.indexOf(tag) < 0) { tags.push(tag); }
    patch({ tags: tags });
  });

  function renderTransferTargets() {
    var sel = $('transfer-target');
    var chosen = sel.value;
    clear(sel);
    sel.appendChild(h('option', { value: '', text: t('details.transfer_choose') }));
    var ga = h('optgroup', { label: t('nav.agents') });
    agents.forEach(function (a) {
      if (a.active === false) { return; }
      var extra = a.status ? ' (' + tv('agentstatus', a.status) + (a.openConversations !== undefined ? ', ' + (a.openConversations.length !== undefined ? a.openConversations.length : a.openConversations) + '/' + (a.capacity || '?') : '') + ')' : '';
      ga.appendChild(h('option', { value: 'agent:' + a.agentId, 'data-status': a.status || '', text: (a.displayName || a.agentId) + extra }));
    });
    var gt = h('optgroup', { label: t('nav.teams') });
    teams.forEach(function (t) { gt.appendChild(h('option', { value: 'team:' + t.teamId, text: t.name || t.teamId })); });
    if (agents.length) { sel.appendChild(ga); }
    if (teams.length) { sel.appendChild(gt); }
    sel.value = chosen;
    if (sel.value !== chosen) { sel.value = ''; }
  }
  $('transfer-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var v = $('transfer-target').value;
    if (!v || !current) { return; }
    var body = v.indexOf('agent:') === 0 ? { agentId: v.slice(6) } : { teamId: v.slice(5) };
    api('POST', '/api/v1/conversations/' + encodeURIComponent(current.id) + '/transfer', body).then(function (r) {
      if (r.ok && r.body) { upsertConversation(r.body); toast(t('details.transferred')); } else { toast(problemText(r, t('details.transfer_failed')), true); }
    });
  });

  // ------------------------------------------------------------------ admin: agents
  function openCount(a) {
    var open = a.openConversations;
    return open === undefined ? '' : String(open.length !== undefined ? open.length : open);
  }
  function agentState(a) { return tv('agentstatus', a.active === false ? 'deactivated' : (a.status || '')); }
  // rebuild: after loading or saving; otherwise (the live refresh) only the status cells change, so what the admin is
  // typing in a row stays.
  function renderAdminAgents(rebuild) {
    var body = $('agents-body');
    var rows = {};
    Array.prototype.forEach.call(body.querySelectorAll('tr[data-agent]'), function (tr) { rows[tr.getAttribute('data-agent')] = tr; });
    var same = agents.length === Object.keys(rows).length && agents.every(function (a) { return rows[a.agentId]; });
    if (!rebuild && same) {
      agents.forEach(function (a) {
        var tr = rows[a.agentId];
        tr.querySelector('.agent-status').textContent = agentState(a);
        tr.querySelector('.agent-open').textContent = openCount(a);
        tr.classList.toggle('inactive', a.active === false);
      });
      return;
    }
    clear(body);
    agents.forEach(function (a) {
      var display = h('input', { value: a.displayName || '', 'aria-label': t('agents.display_name_of', { id: a.agentId }) });
      var role = h('select', { 'aria-label': t('agents.role_of', { id: a.agentId }) }, [h('option', { value: 'agent', text: t('role.agent') }), h('option', { value: 'admin', text: t('role.admin') })]);
      role.value = a.role || 'agent';
      var capacity = h('input', { type: 'number', min: '1', max: '100', value: String(a.capacity || 5), 'aria-label': t('agents.capacity_of', { id: a.agentId }), class: 'narrow' });
      var password = h('input', { type: 'password', placeholder: t('agents.new_password'), autocomplete: 'new-password', 'aria-label': t('agents.new_password_for', { id: a.agentId }) });
      var self = a.agentId === me.agentId;
      body.appendChild(h('tr', { 'data-agent': a.agentId, class: a.active === false ? 'inactive' : null }, [
        h('td', { class: 'agent-id' }, [Avatars.face(a.agentId, a.displayName, a.avatarUrl), a.agentId]), h('td', null, [display]), h('td', null, [role]), h('td', null, [capacity]),
        h('td', { text: (a.teams || []).join(', ') }), h('td', { class: 'agent-status', text: agentState(a) }),
        h('td', { class: 'agent-open', text: openCount(a) }),
        h('td', null, [password,
          self ? null : h('button', { type: 'button', class: 'agent-active', text: a.active === false ? t('agents.reactivate') : t('agents.deactivate'), onclick: function () {
            var active = a.active === false;
            api('PATCH', '/api/v1/agents/' + encodeURIComponent(a.agentId), { active: active }).then(function (r) {
              if (r.ok) { toast(t(active ? 'agents.reactivated' : 'agents.deactivated', { id: a.agentId })); loadAgents(true); } else { toast(problemText(r), true); }
            });
          } }),
          self ? null : h('button', { type: 'button', class: 'danger agent-delete', text: t('common.delete'), onclick: function () {
            if (!confirm(t('agents.confirm_delete', { id: a.agentId }))) { return; }
            api('DELETE', '/api/v1/agents/' + encodeURIComponent(a.agentId)).then(function (r) {
              if (r.ok) { toast(t('agents.deleted', { id: a.agentId })); loadAgents(true); } else { toast(problemText(r), true); }
            });
          } }),
          h('button', { type: 'button', text: t('common.save'), onclick: function () {
          var req = { displayName: display.value.trim(), role: role.value, capacity: parseInt(capacity.value, 10) || undefined };
          if (password.value) { req.password = password.value; }
          api('PATCH', '/api/v1/agents/' + encodeURIComponent(a.agentId), req).then(function (r) {
            if (r.ok) { toast(t('agents.saved', { id: a.agentId })); loadDirectory(); } else { toast(problemText(r), true); }
          });
        } })])
      ]));
    });
    renderChecks($('team-members'), agents.map(function (a) { return { value: a.agentId, label: a.displayName || a.agentId }; }), 'member');
  }
  $('agent-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    var req = { username: f.username.value.trim(), password: f.password.value, displayName: f.displayName.value.trim() || undefined,
      role: f.role.value, capacity: parseInt(f.capacity.value, 10) || undefined };
    api('POST', '/api/v1/agents', req).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(t('agents.created', { id: req.username }));
      f.reset();
      loadDirectory();
    });
  });

  function renderChecks(container, items, name, checked) {
    clear(container);
    items.forEach(function (it) {
      var box = h('input', { type: 'checkbox', name: name, value: it.value });
      box.checked = !!(checked && checked.indexOf(it.value) >= 0);
      container.appendChild(h('label', { class: 'check' }, [box, ' ' + it.label]));
    });
  }
  function checkedValues(container) {
    return Array.prototype.filter.call(container.querySelectorAll('input[type=checkbox]'), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
  }

  // ------------------------------------------------------------------ admin: teams
  function renderAdminTeams() {
    var body = $('teams-body');
    clear(body);
    teams.forEach(function (t) {
      body.appendChild(h('tr', null, [
        h('td', { text: t.teamId }), h('td', { text: t.name }), h('td', { text: (t.agentIds || []).join(', ') }),
        h('td', null, [
          h('button', { type: 'button', text: i18nText('common.edit'), onclick: function () {
            var f = $('team-form');
            f.teamId.value = t.teamId;
            f.name.value = t.name || '';
            renderChecks($('team-members'), agents.map(function (a) { return { value: a.agentId, label: a.displayName || a.agentId }; }), 'member', t.agentIds || []);
          } }),
          h('button', { type: 'button', class: 'danger', text: i18nText('common.delete'), onclick: function () {
            if (!confirm(i18nText('teams.confirm_delete', { id: t.teamId }))) { return; }
            api('DELETE', '/api/v1/teams/' + encodeURIComponent(t.teamId)).then(function (r) { if (r.ok) { loadDirectory(); } else { toast(problemText(r), true); } });
          } })
        ])
      ]));
    });
    renderChecks($('inbox-teams'), teams.map(function (t) { return { value: t.teamId, label: t.name || t.teamId }; }), 'team');
  }
  $('team-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    var id = f.teamId.value.trim();
    api('PUT', '/api/v1/teams/' + encodeURIComponent(id), { name: f.name.value.trim(), agentIds: checkedValues($('team-members')) }).then(function (r) {
      if (r.ok) { toast(t('teams.saved', { id: id })); f.reset(); loadDirectory(); } else { toast(problemText(r), true); }
    });
  });

  // ------------------------------------------------------------------ admin: inboxes
  var DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  renderChecks($('inbox-days'), DAYS.map(function (d) { return { value: d, label: fmtWeekday(d) }; }), 'day', DAYS.slice(0, 5));

  function embedSnippet(key) {
    return '<script src="' + location.origin + '/widget.js" data-inbox-key="' + key + '" async></script>';
  }

  function loadInboxes() {
    api('GET', '/api/v1/inboxes').then(function (r) {
      var list = $('inboxes-list');
      clear(list);
      if (!r.ok) { list.appendChild(h('p', { class: 'muted', text: problemText(r, t('inboxes.unavailable')) })); return; }
      listOf(r.body, 'inboxes').forEach(function (ib) {
        var snippet = h('textarea', { class: 'snippet', readonly: true, rows: '3', 'aria-label': t('inboxes.embed_for', { id: ib.inboxId }) });
        snippet.value = embedSnippet(ib.publicKey || '');
        var hours = ib.businessHours ? ib.businessHours.timeZone + ': ' + (ib.businessHours.days || []).map(function (d) {
          return fmtWeekday(d.day) + ' ' + d.open + '–' + d.close;
        }).join(', ') : t('inboxes.always_open');
        list.appendChild(h('div', { class: 'card', 'data-inbox': ib.inboxId }, [
          h('h3', { text: (ib.name || ib.inboxId) + ' (' + ib.inboxId + ')' }),
          h('dl', { class: 'details-list' }, [
            h('dt', { text: t('inboxes.public_key') }), h('dd', null, [h('code', { class: 'public-key', text: ib.publicKey || '' })]),
            h('dt', { text: t('inboxes.assignment') }), h('dd', { text: tv('inboxes.policy_value', ib.assignmentPolicy) + (ib.maxOpen ? t('inboxes.max_open_value', { n: ib.maxOpen }) : '') }),
            h('dt', { text: t('agents.teams') }), h('dd', { text: (ib.teams || []).join(', ') || t('inboxes.every_agent') }),
            h('dt', { text: t('inboxes.hours') }), h('dd', { text: hours }),
            h('dt', { text: t('inboxes.prechat_short') }), h('dd', { text: ib.preChatForm ? t('common.yes') : t('common.no') }),
            // Identifying signed-in customers (data-user-id / data-user-hash): only the website's server may know it.
            h('dt', { text: t('inboxes.identity_secret') }), h('dd', null, [h('code', { class: 'identity-secret', text: ib.identitySecret || t('inboxes.no_secret') })])
          ]),
          h('p', { class: 'muted', text: t('inboxes.identity_help') }),
          h('span', { class: 'label', text: t('inboxes.embed') }), snippet,
          h('div', { class: 'row' }, [
            h('button', { type: 'button', text: t('common.copy'), onclick: function () {
              snippet.select();
              (navigator.clipboard ? navigator.clipboard.writeText(snippet.value) : Promise.resolve(document.execCommand('copy'))).then(function () { toast(t('common.copied')); });
            } }),
            h('button', { type: 'button', text: t('common.edit'), onclick: function () { editInbox(ib); } }),
            h('button', { type: 'button', text: t('inboxes.rotate'), onclick: function () {
              if (!confirm(t('inboxes.confirm_rotate', { id: ib.inboxId }))) { return; }
              api('POST', '/api/v1/inboxes/' + encodeURIComponent(ib.inboxId) + '/rotate-identity-secret').then(function (d) {
                if (d.ok) { toast(t('inboxes.rotated', { id: ib.inboxId })); loadInboxes(); } else { toast(problemText(d), true); }
              });
            } }),
            ib.inboxId === 'default' ? null : h('button', { type: 'button', class: 'danger', text: t('common.delete'), onclick: function () {
              if (!confirm(t('inboxes.confirm_delete', { id: ib.inboxId }))) { return; }
              api('DELETE', '/api/v1/inboxes/' + encodeURIComponent(ib.inboxId)).then(function (d) { if (d.ok) { loadInboxes(); } else { toast(problemText(d), true); } });
            } })
          ])
        ]));
      });
    });
  }
  initInboxEmail($('inbox-form'));
  function editInbox(ib) {
    var f = $('inbox-form');
    f.inboxId.value = ib.inboxId;
    f.name.value = ib.name || '';
    f.assignmentPolicy.value = ib.assignmentPolicy || 'least_busy';
    f.maxOpen.value = ib.maxOpen || '';
    f.greeting.value = ib.greeting || '';
    f.awayMessage.value = ib.awayMessage || '';
    f.preChatForm.checked = !!ib.preChatForm;
    InboxPreview.fill(f, ib);
    fillInboxEmail(f, ib);
    renderChecks($('inbox-teams'), teams.map(function (t) { return { value: t.teamId, label: t.name || t.teamId }; }), 'team', ib.teams || []);
    var bh = ib.businessHours;
    f.timeZone.value = bh ? bh.timeZone : '';
    if (bh && bh.days && bh.days.length) {
      f.open.value = bh.days[0].open;
      f.close.value = bh.days[0].close;
      renderChecks($('inbox-days'), DAYS.map(function (d) { return { value: d, label: fmtWeekday(d) }; }), 'day', bh.days.map(function (d) { return String(d.day).toLowerCase(); }));
    }
    f.scrollIntoView({ behavior: 'smooth' });
  }
  InboxPreview.attach($('inbox-form'));
  $('inbox-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    var id = f.inboxId.value.trim();
    var req = {
      name: f.name.value.trim(), assignmentPolicy: f.assignmentPolicy.value, maxOpen: parseInt(f.maxOpen.value, 10) || null,
      teams: checkedValues($('inbox-teams')), greeting: f.greeting.value.trim() || null, awayMessage: f.awayMessage.value.trim() || null,
      preChatForm: f.preChatForm.checked, businessHours: null, appearance: InboxPreview.value(f), email: inboxEmailRequest(f)
    };
    if (f.timeZone.value.trim()) {
      req.businessHours = { timeZone: f.timeZone.value.trim(), days: checkedValues($('inbox-days')).map(function (d) {
        return { day: d, open: f.open.value, close: f.close.value };
      }) };
    }
    api('PUT', '/api/v1/inboxes/' + encodeURIComponent(id), req).then(function (r) {
      if (r.ok) { toast(t('inboxes.saved', { id: id })); loadInboxes(); } else { toast(problemText(r), true); }
    });
  });

  // ------------------------------------------------------------------ admin: canned replies
  function renderAdminCanned() {
    var body = $('canned-body');
    clear(body);
    canned.forEach(function (c) {
      var text = h('textarea', { rows: '2', 'aria-label': t('canned.text_of', { shortcut: c.shortcut }) });
      text.value = c.text;
      body.appendChild(h('tr', null, [
        h('td', { text: '/' + c.shortcut }), h('td', null, [text]),
        h('td', null, [
          h('button', { type: 'button', text: t('common.save'), onclick: function () {
            api('PUT', '/api/v1/canned-replies/' + encodeURIComponent(c.id), { shortcut: c.shortcut, text: text.value }).then(function (r) {
              if (r.ok) { toast(t('common.saved')); loadDirectory(); } else { toast(problemText(r), true); }
            });
          } }),
          h('button', { type: 'button', class: 'danger', text: t('common.delete'), onclick: function () {
            api('DELETE', '/api/v1/canned-replies/' + encodeURIComponent(c.id)).then(function (r) { if (r.ok) { loadDirectory(); } else { toast(problemText(r), true); } });
          } })
        ])
      ]));
    });
  }
  $('canned-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var f = e.target;
    var shortcut = f.shortcut.value.trim().replace(/^\//, '');
    api('POST', '/api/v1/canned-replies', { shortcut: shortcut, text: f.text.value }).then(function (r) {
      if (r.ok) { toast(t('canned.added', { shortcut: shortcut })); f.reset(); loadDirectory(); } else { toast(problemText(r), true); }
    });
  });

  // ------------------------------------------------------------------ composer extras and keyboard shortcuts
  Composer.installComposer();
  installShortcuts({ open: openConversation, conversations: function () {
    return Object.keys(conversations).map(function (k) { return conversations[k]; }).sort(listOrder).map(function (c) {
      return { id: c.conversationId, name: visitorLabel(c), status: c.status };
    });
  } });

  // ------------------------------------------------------------------ boot
  applyTranslations(document);
  attachPreferences($('me-name'), api);
  if (session) { start(); } else {
    $('login').hidden = false;
    if (endedMessage) { $('login-error').textContent = endedMessage; $('login-error').hidden = false; }
    $('login-username').focus();
  }
})();
