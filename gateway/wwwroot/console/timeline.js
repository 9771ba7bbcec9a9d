/* Kefu console: a conversation's activity timeline and @mentions (issue #18; docs/contact-centre.md "Activity timeline
 * and mentions"). Plain ES module, no framework; every piece of user data is rendered with textContent.
 * - Timeline: GET /api/v1/conversations/{id}/activity, shown as compact grey lines between the messages by time, and
 *   fetched again (after the last item seen) whenever a frame about the open conversation arrives, plus once a few
 *   seconds later for what follows an event by itself (a routing rule's execution, a CRM or email result).
 * - Mentions: a `mention` frame (docs/protocol.md) shows a notice with a link to the conversation (and a desktop
 *   notification when allowed); @names in notes are highlighted; typing @ in the note composer suggests agents. */
import { t, fmtTime } from './i18n.js';

var PAGE = 200;
var FOLLOW_UP_MS = 3000;
var NOTICE_MS = 12000;

/**
 * deps: api(method, path) → Promise<{ok, status, body}>, currentId() → the open conversation's id or null,
 * me() → {agentId, name}, agents() → [{agentId, displayName}], openConversation(id), notify(title, body, id),
 * log() → the message log element.
 */
export function createActivity(deps) {
  var state = null; // { id, next, items: {id: el}, busy, again, followUp }
  var noticeTimer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  // ------------------------------------------------------------------ timeline
  function open(id) {
    Array.prototype.slice.call(deps.log().querySelectorAll('.activity')).forEach(function (n) { n.remove(); });
    if (state) { clearTimeout(state.followUp); }
    state = { id: id, next: null, items: {}, busy: false, again: false, followUp: null };
    refresh();
  }

  function refresh() {
    var s = state;
    if (!s || s.id !== deps.currentId()) { return; }
    if (s.busy) { s.again = true; return; }
    s.busy = true;
    var path = '/api/v1/conversations/' + encodeURIComponent(s.id) + '/activity?limit=' + PAGE + (s.next ? '&after=' + s.next : '');
    deps.api('GET', path).then(function (r) {
      s.busy = false;
      if (s !== state) { return; }
      if (!r.ok || !r.body) { return; } // 403 after a transfer away, or offline: the messages still show
      var items = r.body.items || [];
      items.forEach(add);
      var synced = (r.body.crm || []).filter(addCrm).length;
      if (r.body.next) { s.next = r.body.next; }
      if (items.length || synced) { place(); }
      if (items.length === PAGE || s.again) { s.again = false; refresh(); }
    });
  }

  /** A frame about the open conversation may mean new items: fetch now and once more a little later. */
  function changed() {
    var s = state;
    if (!s) { return; }
    refresh();
    clearTimeout(s.followUp);
    s.followUp = setTimeout(refresh, FOLLOW_UP_MS);
  }

  /** Messages and notes make no items themselves, but a rule may act on them: one fetch after a burst of them. */
  function later() {
    var s = state;
    clearTimeout(s.followUp);
    s.followUp = setTimeout(refresh, FOLLOW_UP_MS);
  }

  function add(item) {
    if (state.items[item.id]) { return; }
    // A transfer to an agent is followed by its assignment: the transfer line says it all.
    var prev = state.last;
    state.last = item;
    if (item.type === 'conversation.assigned' && prev && prev.type === 'conversation.transferred' && (prev.fields || {}).toAgentId === (item.fields || {}).agentId) { return; }
    var line = el('div', 'activity');
    line.setAttribute('data-activity-id', item.id);
    line.setAttribute('data-activity-type', item.type);
    line.setAttribute('data-ts', item.time);
    line.appendChild(el('span', 'activity-text', describe(item)));
    line.appendChild(el('span', 'activity-time', ' · ' + fmtTime(item.time)));
    state.items[item.id] = line;
  }

  /** The conversation's last verified sync to a CRM (no event: read with the page), a line at that time; true when new. */
  function addCrm(c) {
    if (c.state !== 'in_sync' || !c.inSyncAt) { return false; }
    var id = 'crm:' + c.crm + ':' + c.inSyncAt;
    if (state.items[id]) { return false; }
    var line = el('div', 'activity');
    line.setAttribute('data-activity-id', id);
    line.setAttribute('data-activity-type', 'crm.in_sync');
    line.setAttribute('data-ts', c.inSyncAt);
    line.appendChild(el('span', 'activity-text', t('timeline.crmSynced', { crm: c.crm })));
    line.appendChild(el('span', 'activity-time', ' · ' + fmtTime(c.inSyncAt)));
    state.items[id] = line;
    return true;
  }

  /** Each line sits by time: before the first message, note or line that is later than it (else at the end). */
  function place() {
    if (!state) { return; }
    var log = deps.log();
    var ids = Object.keys(state.items);
    ids.sort(function (a, b) { return Date.parse(state.items[a].getAttribute('data-ts')) - Date.parse(state.items[b].getAttribute('data-ts')); });
    ids.forEach(function (id) {
      var line = state.items[id];
      var at = Date.parse(line.getAttribute('data-ts'));
      var next = null;
      for (var c = log.firstElementChild; c; c = c.nextElementSibling) {
        if (c === line || !c.classList.contains('msg') && !c.classList.contains('note') && !c.classList.contains('activity')) { continue; }
        var ts = Date.parse(c.getAttribute('data-ts') || '');
        if (ts > at) { next = c; break; }
      }
      if (next) { if (line.nextSibling !== next) { log.insertBefore(line, next); } }
      else if (line.parentNode !== log || line.nextSibling) { log.appendChild(line); }
    });
  }

  function actor(item) {
    var a = item.actor || {};
    switch (a.kind) {
      case 'agent': return a.name || a.id;
      case 'visitor': return t('timeline.actor.visitor');
      case 'rule': return t('timeline.actor.rule', { id: a.id });
      case 'bot': return a.name || t('timeline.actor.bot');
      case 'api_key': return a.name || a.id;
      default: return t('timeline.actor.system');
    }
  }

  function agent(f, prefix) { return f[prefix + 'Name'] || f[prefix + 'Id']; }

  /** A word from the table (a status, priority, outcome, email kind), or the value itself when the table lacks it. */
  function label(prefix, value) {
    var key = 'timeline.' + prefix + '.' + value;
    var s = t(key);
    return s === key ? String(value) : s;
  }
  function status(name) { return label('status', name); }

  function describe(item) {
    var f = item.fields || {};
    var who = actor(item);
    var byPerson = item.actor && item.actor.kind === 'agent';
    switch (item.type) {
      case 'conversation.assigned':
        if (byPerson && item.actor.id === f.agentId) { return t('timeline.took', { actor: who }); }
        return byPerson ? t('timeline.assignedBy', { actor: who, to: agent(f, 'agent') }) : t('timeline.assigned', { to: agent(f, 'agent'), actor: who });
      case 'conversation.transferred':
        if (f.toTeam) { return t('timeline.transferredTeam', { actor: who, team: f.toTeam }); }
        return f.fromAgentId && !(byPerson && item.actor.id === f.fromAgentId)
          ? t('timeline.transferred', { actor: who, from: agent(f, 'fromAgent'), to: agent(f, 'toAgent') })
          : t('timeline.transferredTo', { actor: who, to: agent(f, 'toAgent') });
      case 'conversation.status_changed':
        if (f.to === 'snoozed') { return t('timeline.snoozed', { actor: who, until: fmtTime(f.snoozedUntil) }); }
        if (f.from === 'queued' && f.to === 'open') { return t('timeline.opened'); }
        if (f.to === 'resolved') { return t('timeline.resolved', { actor: who }); }
        if (f.to === 'open' && (f.from === 'resolved' || f.from === 'snoozed' || f.from === 'pending')) { return t('timeline.reopened', { actor: who }); }
        return t('timeline.status', { actor: who, from: status(f.from), to: status(f.to) });
      case 'conversation.updated': {
        var parts = [];
        var changed = f.changed || [];
        if (changed.indexOf('tags') >= 0) {
          parts.push((f.tags || []).length ? t('timeline.tags', { actor: who, tags: f.tags.join(', ') }) : t('timeline.tagsCleared', { actor: who }));
        }
        if (changed.indexOf('priority') >= 0) { parts.push(t('timeline.priority', { actor: who, priority: label('priority', f.priority) })); }
        return parts.join(' · ') || t('timeline.updated', { actor: who });
      }
      case 'conversation.rated':
        return t(f.comment ? 'timeline.ratedComment' : 'timeline.rated', { rating: f.rating, comment: f.comment });
      case 'route.executed':
        return t(f.error ? 'timeline.ruleFailed' : 'timeline.rule', { id: f.routeId, outcome: label('outcome', f.outcome), error: f.error });
      case 'crm.sync_failed':
        return t('timeline.crmFailed', { crm: f.crm, attempts: f.attempts, error: f.error || '' });
      case 'email.sent':
        return t('timeline.emailSent', { kind: label('email', f.kind), to: f.to });
      case 'email.failed':
        return t(f.bounced ? 'timeline.emailBounced' : 'timeline.emailFailed', { kind: label('email', f.kind), to: f.to, error: f.error || '' });
      default:
        return item.type;
    }
  }

  // ------------------------------------------------------------------ mentions
  /** A note's text with @names highlighted (the signed-in agent's own name more so); text nodes only. */
  function noteText(text) {
    var box = el('div', 'text');
    var known = {};
    (deps.agents() || []).forEach(function (a) { known[a.agentId] = true; });
    var me = deps.me() || {};
    if (me.agentId) { known[me.agentId] = true; }
    var re = /(^|[^A-Za-z0-9._-])@([A-Za-z0-9._-]+)/g;
    var last = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      var name = m[2].replace(/\.+$/, '');
      var id = name.toLowerCase();
      if (!known[id]) { continue; }
      var start = m.index + m[1].length;
      box.appendChild(document.createTextNode(text.slice(last, start)));
      box.appendChild(el('span', 'mention' + (id === me.agentId ? ' mention-me' : ''), '@' + name));
      last = start + 1 + name.length;
    }
    box.appendChild(document.createTextNode(text.slice(last)));
    return box;
  }

  function mentioned(f) {
    var note = f.note || {};
    var author = (note.author && (note.author.name || note.author.id)) || '';
    var text = String(note.text || '');
    var excerpt = text.length > 140 ? text.slice(0, 140) + '…' : text;
    var box = document.getElementById('mention-notice');
    if (!box) {
      box = el('div', 'mention-notice');
      box.id = 'mention-notice';
      box.setAttribute('role', 'alert');
      document.body.appendChild(box);
    }
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.appendChild(el('div', 'mention-title', t('timeline.mentioned', { author: author })));
    box.appendChild(el('div', 'mention-excerpt', excerpt));
    var go = el('button', 'primary mention-open', t('timeline.openConversation'));
    go.type = 'button';
    go.addEventListener('click', function () { box.hidden = true; deps.openConversation(f.conversationId); });
    var close = el('button', 'ghost mention-close', t('timeline.dismiss'));
    close.type = 'button';
    close.addEventListener('click', function () { box.hidden = true; });
    var row = el('div', 'mention-actions');
    row.appendChild(go);
    row.appendChild(close);
    box.appendChild(row);
    box.setAttribute('data-conversation', f.conversationId);
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { box.hidden = true; }, NOTICE_MS);
    deps.notify(t('timeline.mentioned', { author: author }), excerpt, f.conversationId);
  }

  // ------------------------------------------------------------------ @ autocomplete in the note composer
  // Listens on the composer form in the capture phase, so its keys (Enter, Tab, arrows, Escape) choose a suggestion
  // before the composer's own handler would send the note.
  var MAX_SUGGESTIONS = 6;
  var picks = [];
  var pick = 0;
  function mentionPrefix(input) {
    var m = /(^|[^A-Za-z0-9._-])@([A-Za-z0-9._-]*)$/.exec(input.value.slice(0, input.selectionStart));
    return m ? m[2].toLowerCase() : null;
  }
  function hidePicks(list) { picks = []; if (list) { list.hidden = true; } }
  function showPicks(form, input) {
    var list = document.getElementById('mention-suggestions');
    var prefix = form.classList.contains('note-mode') ? mentionPrefix(input) : null;
    if (prefix === null) { hidePicks(list); return; }
    var me = deps.me() || {};
    picks = (deps.agents() || []).filter(function (a) {
      return a.agentId !== me.agentId && a.active !== false && (a.agentId.indexOf(prefix) === 0 || String(a.displayName || '').toLowerCase().indexOf(prefix) === 0);
    }).slice(0, MAX_SUGGESTIONS);
    if (!list) {
      list = el('ul', 'canned-suggestions mention-suggestions');
      list.id = 'mention-suggestions';
      list.setAttribute('role', 'listbox');
      list.setAttribute('aria-label', t('timeline.mentionSuggestions'));
      form.insertBefore(list, form.firstChild);
    }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    pick = 0;
    picks.forEach(function (a, i) {
      var li = el('li', i === 0 ? 'active' : '');
      li.setAttribute('role', 'option');
      li.setAttribute('data-agent', a.agentId);
      li.appendChild(el('strong', null, '@' + a.agentId));
      if (a.displayName && a.displayName !== a.agentId) { li.appendChild(el('span', null, ' ' + a.displayName)); }
      li.addEventListener('mousedown', function (e) { e.preventDefault(); usePick(input, a, list); });
      list.appendChild(li);
    });
    list.hidden = picks.length === 0;
  }
  function usePick(input, a, list) {
    var caret = input.selectionStart;
    var before = input.value.slice(0, caret).replace(/@[A-Za-z0-9._-]*$/, '@' + a.agentId + ' ');
    input.value = before + input.value.slice(caret);
    input.setSelectionRange(before.length, before.length);
    hidePicks(list);
    input.focus();
  }
  function attachComposer(form, input) {
    if (!form || !input) { return; }
    input.addEventListener('input', function () { showPicks(form, input); });
    input.addEventListener('blur', function () { hidePicks(document.getElementById('mention-suggestions')); });
    form.addEventListener('keydown', function (e) {
      var list = document.getElementById('mention-suggestions');
      if (e.target !== input || !picks.length || !list || list.hidden) { return; }
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        pick = (pick + (e.key === 'ArrowDown' ? 1 : picks.length - 1)) % picks.length;
        Array.prototype.forEach.call(list.children, function (li, i) { li.classList.toggle('active', i === pick); });
      } else if (e.key === 'Enter' || e.key === 'Tab') {
        usePick(input, picks[pick], list);
      } else if (e.key === 'Escape') {
        hidePicks(list);
      } else { return; }
      e.preventDefault();
      e.stopPropagation();
    }, true);
  }
  attachComposer(document.getElementById('composer'), document.getElementById('composer-input'));

  /** Every frame passes here first: mentions, and anything about the open conversation that may add items. */
  function onFrame(f) {
    if (!f) { return; }
    if (f.type === 'mention') { mentioned(f); return; }
    if (!state || f.conversationId !== state.id) { return; }
    if (f.type === 'conversation' || f.type === 'joined') { changed(); }
    else if (f.type === 'message' || f.type === 'note') { later(); }
  }

  return { open: open, place: place, refresh: refresh, onFrame: onFrame, noteText: noteText, describe: describe };
}
