/*! Kefu browser client: the chat connection logic shared by the visitor widget (/widget.js) and the agent console
 * (/console/app.js), so it exists once. A plain ES module, no build step: the console imports it, the widget (one
 * classic script tag on somebody else's page) loads it with a dynamic import() from its own origin.
 * Protocol: docs/protocol.md (§4 the socket, §5.1 send, §5.3 sync, §9.4 resume, §3.5 attachments, §6.2 content).
 * Nothing here touches the page's layout; every piece of user data reaches the DOM through textContent. */
import { linkify } from './linkify.js';

/** Frames refused for now (the frame rate, a cluster hiccup): the same send goes again later, same clientMsgId. */
const TRANSIENT = { rate_limited: true, unavailable: true };

export function uuid() {
  if (globalThis.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  return 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
}

/** Lone UTF-16 surrogates (half an emoji, say) are not text a server can store: replaced, never sent. */
export function wellFormed(text) {
  if (typeof text.toWellFormed === 'function') { return text.toWellFormed(); }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xDC00 && text.charCodeAt(i + 1) <= 0xDFFF) {
      out += text.charAt(i) + text.charAt(i + 1);
      i++;
    } else if (c >= 0xD800 && c <= 0xDFFF) { out += '\uFFFD'; } else { out += text.charAt(i); }
  }
  return out;
}

// ------------------------------------------------------------------ typed content (docs/protocol.md §3.5, §6.2)
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MEDIA_TYPE = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/;
// Messages stored before typed content (and servers without it) carry an attachment as this whole text.
const LEGACY = /^\[attachment:([0-9A-HJKMNP-TV-Z]{26}):([a-z0-9.+-]+\/[a-z0-9.+-]+)\] ([^\r\n]+)$/;

/**
 * What a message shows: {kind:'text', text} or {kind:'attachment', attachmentId, contentType, name, size}. From its
 * `content`; a message without one (an older server) is read from the legacy "[attachment:{id}:{type}] {name}" text.
 * A kind this version does not know shows its text. An attachment id that is not a ULID is text: the address of the
 * file is built from the id, so a message cannot choose it.
 */
export function contentOf(msg) {
  const text = (msg && msg.text) || '';
  const c = msg && msg.content;
  if (c && typeof c === 'object') {
    if (c.kind === 'attachment' && typeof c.attachmentId === 'string' && ULID.test(c.attachmentId)) {
      const type = String(c.contentType || '').toLowerCase();
      return { kind: 'attachment', attachmentId: c.attachmentId, contentType: MEDIA_TYPE.test(type) ? type : 'application/octet-stream',
        name: c.name || text || 'file', size: typeof c.size === 'number' ? c.size : null };
    }
    return { kind: 'text', text: text };
  }
  const m = LEGACY.exec(text);
  return m ? { kind: 'attachment', attachmentId: m[1], contentType: m[2], name: m[3], size: null } : { kind: 'text', text: text };
}

/** A list row's preview, as the list API makes it: an attachment by its file name, at most 140 characters. */
export function previewText(msg) {
  const c = contentOf(msg);
  const text = c.kind === 'attachment' ? c.name : c.text;
  return text.length > 140 ? text.slice(0, 140) : text;
}

/**
 * The send of an uploaded file (the upload's 201 answer): typed content, plus the legacy text form so a server
 * that does not read `content` yet stores it as an attachment too (it reads that text as attachment content).
 */
export function attachmentSend(upload) {
  return {
    text: '[attachment:' + upload.attachmentId + ':' + upload.contentType + '] ' + upload.name,
    content: { kind: 'attachment', attachmentId: upload.attachmentId },
    shown: { kind: 'attachment', attachmentId: upload.attachmentId, contentType: upload.contentType, name: upload.name, size: upload.size }
  };
}

function el(tag, attrs, children) {
  const e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(k => {
    if (k === 'text') { e.textContent = attrs[k]; } else if (k === 'class') { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
  });
  (children || []).forEach(c => e.appendChild(c));
  return e;
}

/**
 * Shows attachments through short-lived signed links (POST /api/v1/attachments/{id}/link), never a token in a URL:
 * the element is shown at once, gets its address when the link arrives, and asks for a fresh one when clicked after
 * it expired. origin: the gateway ('' = this page's); token(): the caller's bearer token.
 */
export function createAttachments(origin, token) {
  const links = {};
  function link(id) {
    const cached = links[id];
    if (cached && cached.expires - Date.now() > 60000) { return cached.promise; }
    const entry = { expires: Infinity };
    entry.promise = fetch(origin + '/api/v1/attachments/' + encodeURIComponent(id) + '/link', {
      method: 'POST', mode: 'cors', headers: { Accept: 'application/json', Authorization: 'Bearer ' + (token() || '') }
    }).then(r => r.ok ? r.json() : Promise.reject(new Error('link ' + r.status))).then(body => {
      entry.expires = Date.parse(body.expiresAt);
      return { url: origin + body.url, expires: entry.expires };
    });
    entry.promise.catch(() => { if (links[id] === entry) { delete links[id]; } });
    links[id] = entry;
    return entry.promise;
  }
  /** An attachment content: images as a thumbnail, anything else as a download link. */
  function element(a) {
    const image = /^image\//.test(a.contentType);
    const e = image
      ? el('a', { target: '_blank', rel: 'noopener noreferrer', title: a.name },
        [el('img', { class: 'thumb', alt: a.name, 'data-attachment-id': a.attachmentId })])
      : el('a', { class: 'file', target: '_blank', rel: 'noopener noreferrer', download: a.name,
        'data-attachment-id': a.attachmentId, text: '\uD83D\uDCCE ' + a.name });
    let expires = 0, following = false;
    function apply(l) { expires = l.expires; e.href = l.url; if (image) { e.firstChild.src = l.url; } }
    link(a.attachmentId).then(apply, () => {});
    e.addEventListener('click', ev => {
      if (following || expires - Date.now() > 5000) { return; }
      ev.preventDefault(); // the link has expired (or never came): fetch a fresh one, then follow it (once)
      link(a.attachmentId).then(l => { apply(l); following = true; e.click(); following = false; }, () => {});
    });
    return e;
  }
  /** A message's body: {kind, node}, the node being the file for an attachment and the text (its URLs as safe links,
   * linkify.js) otherwise. */
  function body(msg) {
    const c = contentOf(msg);
    return { kind: c.kind, content: c, node: c.kind === 'attachment' ? element(c) : linkify(c.text) };
  }
  return { link, element, body };
}

// ------------------------------------------------------------------ the socket
/**
 * One WebSocket with reconnect: exponential backoff with jitter (0.5 s … 15 s), a ping every 15 s, a connection
 * silent for 40 s counts as dead, the browser's offline/online events drop and restore it at once.
 * o.url(): the /ws address with the token, or null when there is nothing to connect with;
 * o.onOpen(), o.onFrame(frame), o.onDrop() (a socket was lost), o.onHeartbeat() (every 15 s while open),
 * o.onNetwork(online); o.refused(): a socket closed before it opened, or closed by the server for an ended session
 * (1008 "unauthorized…"): the token may no longer be valid, which a browser cannot see (the upgrade answers 401).
 * It returns (a promise of) true to reconnect as usual; otherwise the caller has handled it (a new token, sign in).
 * o.canConnect(): false stops reconnecting (e.g. chat unavailable).
 */
export function createConnection(o) {
  let ws = null, open = false, attempts = 0, timer = null, ping = null, lastFrameAt = 0, stopped = false;
  let offline = navigator.onLine === false;
  const conn = {
    get open() { return open; },
    get active() { return !!ws; },
    get offline() { return offline; },
    connect, send, drop, reconnect, stop,
    /** Connect now (a user's action, a new token): no wait for the backoff. */
    now() { if (ws || stopped) { return; } clearTimeout(timer); timer = null; attempts = 0; connect(); }
  };

  function allowed() { return !stopped && (!o.canConnect || o.canConnect()); }

  function connect() {
    if (ws || !allowed()) { return; }
    const url = o.url();
    if (!url) { return; }
    clearTimeout(timer);
    timer = null;
    let opened = false, socket;
    try { socket = new WebSocket(url, 'kefu.v1.json'); } catch (e) { reconnect(); return; }
    ws = socket;
    if (o.onConnecting) { o.onConnecting(); }
    socket.onopen = () => {
      if (ws !== socket) { return; }
      opened = true;
      open = true;
      attempts = 0;
      lastFrameAt = Date.now();
      clearInterval(ping);
      ping = setInterval(heartbeat, 15000);
      o.onOpen();
    };
    socket.onmessage = ev => {
      if (ws !== socket) { return; }
      lastFrameAt = Date.now();
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f === 'object') { o.onFrame(f); }
    };
    socket.onclose = ev => {
      if (ws !== socket) { return; }
      drop();
      const ended = ev && ev.code === 1008 && /^unauthorized/.test(ev.reason || '');
      if (opened && !ended) { reconnect(); return; }
      Promise.resolve(o.refused ? o.refused() : true).then(again => { if (again) { reconnect(); } }, () => reconnect());
    };
    socket.onerror = () => { /* onclose follows */ };
  }

  function send(frame) {
    if (!ws || !open) { return false; }
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }

  /** Lets go of the socket (it is closed); o.onDrop tells the page. Reconnecting is the caller's choice. */
  function drop() {
    const old = ws;
    ws = null;
    open = false;
    clearInterval(ping);
    if (!old) { return; }
    old.onopen = old.onmessage = old.onclose = old.onerror = null;
    try { old.close(); } catch (e) { /* already closed */ }
    if (o.onDrop) { o.onDrop(); }
  }

  function heartbeat() {
    if (!open) { return; }
    if (Date.now() - lastFrameAt > 40000) { drop(); reconnect(0); return; } // a silent, dead connection
    if (o.onHeartbeat) { o.onHeartbeat(); }
    send({ type: 'ping' });
  }

  function reconnect(delay) {
    if (timer || ws || !allowed()) { return; }
    if (delay === undefined) {
      delay = Math.min(15000, 500 * Math.pow(2, attempts)) * (0.75 + Math.random() * 0.5);
      attempts++;
    }
    timer = setTimeout(() => { timer = null; connect(); }, delay);
  }

  /** For good (sign-out, chat unavailable): no reconnect until connect() is called again after stopped is cleared. */
  function stop() { stopped = true; clearTimeout(timer); timer = null; drop(); }

  window.addEventListener('online', () => {
    offline = false;
    if (o.onNetwork) { o.onNetwork(true); }
    if (!ws && allowed()) { conn.now(); }
  });
  // The browser knows at once that the network is gone; the socket would take up to 40 s to notice.
  window.addEventListener('offline', () => {
    offline = true;
    if (ws) { drop(); reconnect(); }
    if (o.onNetwork) { o.onNetwork(false); }
  });
  return conn;
}

// ------------------------------------------------------------------ the ordered outbox
/**
 * Unacked sends in typed order. Only the head is ever on the wire; the next goes after the head's ack (or once the
 * head is seen stored), so a refused head (rate_limited, unavailable: retried with backoff, 1 s … 8 s) holds every
 * later one and the server stores them in typed order. After a reconnect the head goes again with its original
 * clientMsgId (the server answers a stored one with its first ack). A head on the wire when the socket died three
 * times in a row fails, so a message the server chokes on cannot loop; one unanswered for 10 s on a live socket (a
 * lost frame) goes again.
 * Entries: {clientMsgId, text, content?, conversationId?}. o.conn: the connection; o.ready(head): false holds the
 * head (e.g. until a join is answered); o.onFail(entry, errorFrame?): a send refused for good.
 */
export function createOutbox(o) {
  const entries = [];
  let inFlight = null, retryTimer = null, retryDelay = 1000;
  const box = { entries, push, pump, settle, fail, retry, remove, find, error, dropped, heartbeat,
    get inFlight() { return inFlight; } };

  function frameOf(e) {
    const f = { type: 'send', clientMsgId: e.clientMsgId, text: e.text };
    if (e.conversationId) { f.conversationId = e.conversationId; }
    if (e.content) { f.content = e.content; }
    return f;
  }
  function transmit(e) {
    inFlight = e;
    e.sentAt = Date.now();
    if (!o.conn.send(frameOf(e))) { inFlight = null; }
  }
  function push(e) { e.failed = false; entries.push(e); pump(); return e; }
  function pump() {
    if (inFlight || retryTimer || !o.conn.open || !entries.length) { return; }
    if (o.ready && !o.ready(entries[0])) { return; }
    transmit(entries[0]);
  }
  function remove(e) {
    const i = entries.indexOf(e);
    if (i >= 0) { entries.splice(i, 1); }
    if (inFlight === e) { inFlight = null; }
  }
  /** Acked, or its message seen stored: out of the outbox, the next one goes. */
  function settle(e) {
    if (inFlight === e) { retryDelay = 1000; }
    remove(e);
    pump();
  }
  function fail(e, f) {
    e.failed = true;
    remove(e);
    if (o.onFail) { o.onFail(e, f || null); }
  }
  /** A failed send goes again at the end: it will be stored after what was sent since. */
  function retry(e) { e.drops = 0; return push(e); }
  function find(clientMsgId) { return entries.filter(x => x.clientMsgId === clientMsgId)[0] || null; }
  /** An error frame: returns the entry it refers to (null if none). */
  function error(f) {
    const e = f.ref ? find(f.ref) : null;
    if (!e) { return null; }
    if (TRANSIENT[f.code]) {
      if (inFlight === e) { inFlight = null; }
      if (!retryTimer) {
        retryTimer = setTimeout(() => { retryTimer = null; pump(); }, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 8000);
      }
    } else {
      fail(e, f);
      pump();
    }
    return e;
  }
  /** The socket died: what was on the wire goes again after the reconnect (or fails at its third death). */
  function dropped() {
    if (inFlight) {
      const e = inFlight;
      inFlight = null;
      e.drops = (e.drops || 0) + 1;
      if (e.drops >= 3) { fail(e); }
    }
    clearTimeout(retryTimer);
    retryTimer = null;
  }
  function heartbeat() {
    if (inFlight && Date.now() - inFlight.sentAt > 10000) { const head = inFlight; inFlight = null; transmit(head); }
  }
  return box;
}

// ------------------------------------------------------------------ one conversation's timeline and resume
/**
 * The messages of one conversation by seq, how far they are contiguous, and the sync that fills gaps and resumes
 * after a reconnect (docs/protocol.md §9.4): `sync {afterSeq: contiguous}`, paged on `hasMore` from `throughSeq`.
 * conversationId: sent in the frames (agents); null for a visitor's current conversation.
 */
export function createTimeline(conn, conversationId) {
  const t = {
    bySeq: {}, contiguous: 0, syncing: false, again: false,
    has(seq) { return !!t.bySeq[seq]; },
    /** A message shown at seq: advances contiguous, and asks for what is missing when it left a gap. */
    put(seq, entry) {
      t.bySeq[seq] = entry;
      while (t.bySeq[t.contiguous + 1]) { t.contiguous++; }
      if (seq > t.contiguous && !t.syncing && conn.open) { t.sync(); }
    },
    /** The entry with the smallest seq above this one (to insert before it), or null. */
    after(seq) {
      let best = Infinity, next = null;
      Object.keys(t.bySeq).forEach(s => { s = +s; if (s > seq && s < best) { best = s; next = t.bySeq[s]; } });
      return next;
    },
    sync() {
      if (!conn.open) { return; }
      if (t.syncing) { t.again = true; return; }
      t.syncing = true;
      conn.send(frame(t.contiguous));
    },
    /** A `synced` frame: true when the catch-up is complete. */
    synced(f) {
      if (f.hasMore && typeof f.throughSeq === 'number') { conn.send(frame(f.throughSeq)); return false; }
      t.syncing = false;
      if (t.again) { t.again = false; t.sync(); }
      return true;
    },
    /** The sync was refused, or the socket it ran on is gone. */
    reset() { t.syncing = false; t.again = false; }
  };
  function frame(after) {
    const f = { type: 'sync', afterSeq: after };
    if (conversationId) { f.conversationId = conversationId; }
    return f;
  }
  return t;
}
