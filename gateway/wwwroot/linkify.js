/*! Kefu safe links: URLs in message text become links, for the widget and the console alike (kefu-client.js uses
 * it for every text message). A plain ES module, no build step.
 * The text is never parsed as HTML: it becomes text nodes, and <a> elements whose href is set as a property only after
 * `new URL()` has parsed it and its protocol is http:, https: or mailto:. A link can only start with "http://",
 * "https://", "mailto:" or "www." written out literally, so nothing encoded (`jav&#x61;script:`, `%6a…`), mixed-case,
 * split by whitespace or control characters, or any other scheme (javascript:, data:, vbscript:) ever becomes one:
 * the text stays text, as it was typed. A link's text is what was typed (an IDN stays Unicode, punycode stays
 * punycode); its title shows the address the browser will really open. */

const SAFE = { 'http:': true, 'https:': true, 'mailto:': true };
const MAX = 2048;

// Where a link may start: a literal scheme or "www.", not inside a word (so "xhttps://" or "ahttp" is no link).
// What a link is made of: anything but whitespace (\s includes U+2028/2029), controls, quotes and angle brackets,
// invisible formatting and bidi controls (which could disguise where a link ends or points), and CJK/full-width
// punctuation (Chinese text runs on right after a URL: "见https://example.com。谢谢").
const CANDIDATE = /(?:https?:\/\/|mailto:|www\.)[^\s\u0000-\u001f\u007f-\u009f"'<>`\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+/gi;
const TRAILING = /[.,;:!?*_~]+$/;

/** The part of a match that is the URL: trailing sentence punctuation and unbalanced closing brackets left out. */
function trim(s) {
  for (;;) {
    const before = s;
    s = s.replace(TRAILING, '');
    const last = s.charAt(s.length - 1);
    const pairs = { ')': '(', ']': '[', '}': '{' };
    if (pairs[last] && count(s, last) > count(s, pairs[last])) { s = s.slice(0, -1); }
    if (s === before) { return s; }
  }
}
function count(s, c) { return s.split(c).length - 1; }

/**
 * The address a piece of text may link to, or null: parsed by the browser's own URL parser, and only http(s) with a
 * host, or mailto: with an address. "www.example.com" links to https://www.example.com.
 */
export function safeHref(raw) {
  if (typeof raw !== 'string' || !raw || raw.length > MAX) { return null; }
  const text = /^www\./i.test(raw) ? 'https://' + raw : raw;
  // "https:///x" or "https:\\x" would be repaired by the parser into some host: what was typed names none.
  if (/^https?:/i.test(text) && !/^https?:\/\/[^\/\\]/i.test(text)) { return null; }
  let url;
  try { url = new URL(text); } catch (e) { return null; }
  if (!SAFE[url.protocol]) { return null; }
  if (url.protocol === 'mailto:') { return /^[^@\s]+@[^@\s]+$/.test(decodeSafe(url.pathname)) ? url.href : null; }
  return url.hostname ? url.href : null;
}
function decodeSafe(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }

/** The pieces of a text: [{text}] and [{text, href}] in order; their texts joined are the text, unchanged. */
export function tokens(text) {
  text = typeof text === 'string' ? text : String(text === null || text === undefined ? '' : text);
  const out = [];
  let at = 0;
  CANDIDATE.lastIndex = 0;
  let m;
  while ((m = CANDIDATE.exec(text)) !== null) {
    const start = m.index;
    // Not in the middle of a word or an address: "xhttps://…", "user@www.example.com".
    if (start > 0 && /[\w@.\/-]/.test(text.charAt(start - 1))) { continue; }
    const url = trim(m[0]);
    CANDIDATE.lastIndex = start + Math.max(url.length, 1);
    const href = url.length > 'www.'.length ? safeHref(url) : null;
    if (!href) { continue; }
    if (start > at) { out.push({ text: text.slice(at, start) }); }
    out.push({ text: url, href: href });
    at = start + url.length;
  }
  if (at < text.length || !out.length) { out.push({ text: text.slice(at) }); }
  return out;
}

/**
 * A DocumentFragment of the text with its URLs as links (target _blank, rel noopener noreferrer). doc: the document
 * to create nodes in (default: this page's).
 */
export function linkify(text, doc) {
  doc = doc || document;
  const frag = doc.createDocumentFragment();
  tokens(text).forEach(t => {
    if (!t.href) { frag.appendChild(doc.createTextNode(t.text)); return; }
    const a = doc.createElement('a');
    a.href = t.href;
    // Checked again as the element resolved it: only ever a web or mail address.
    if (!SAFE[a.protocol]) { frag.appendChild(doc.createTextNode(t.text)); return; }
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.className = 'link';
    a.title = t.href;
    a.textContent = t.text;
    frag.appendChild(a);
  });
  return frag;
}
