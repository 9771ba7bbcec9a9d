/* Agents' faces in the console (issue #18): the agent's picture (GET /api/v1/avatars/{tenant}/{agentId}, versioned link
 * from the agent list), or initials on a colour derived from the agent's id; and the signed-in agent's own picture in
 * the user menu (upload: PUT /api/v1/agents/me/avatar with the image as the body; remove: DELETE).
 * Plain ES module, no framework; names and initials go through textContent, pictures through img.src only. */
import { t } from './i18n.js';

var agents = {}; // agent id -> { displayName, avatarUrl }
var menu = null;

/** A colour of its own per agent id, dark enough for white initials (lightness 40%). */
export function colorFor(id) {
  var n = 0;
  id = String(id || '');
  for (var i = 0; i < id.length; i++) { n = (n * 31 + id.charCodeAt(i)) >>> 0; }
  return 'hsl(' + (n % 360) + ', 55%, 40%)';
}

/** "Ann Lee" -> "AL", "美玲" -> "美", "" -> "?". */
export function initials(name) {
  var parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!parts.length) { return '?'; }
  var first = Array.from(parts[0])[0];
  var last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : '';
  return (first + last).toUpperCase();
}

/** Remembers the agent list (GET /api/v1/agents) so messages and headers find each agent's picture. */
export function setAgents(list) {
  agents = {};
  (list || []).forEach(function (a) { agents[a.agentId] = { displayName: a.displayName, avatarUrl: a.avatarUrl || null }; });
}

/** A face: span.face with the picture, or with initials on the agent's colour. size: 'small' | 'large' | undefined. */
export function face(agentId, name, avatarUrl, size) {
  var el = document.createElement('span');
  el.className = 'face' + (size ? ' ' + size : '');
  el.setAttribute('data-agent', agentId || '');
  el.setAttribute('aria-hidden', 'true');
  fill(el, agentId, name, avatarUrl);
  return el;
}

function fill(el, agentId, name, avatarUrl) {
  while (el.firstChild) { el.removeChild(el.firstChild); }
  el.classList.toggle('has-picture', !!avatarUrl);
  if (avatarUrl) {
    el.style.background = '';
    var img = document.createElement('img');
    img.alt = '';
    img.src = avatarUrl;
    el.appendChild(img);
  } else {
    el.style.background = colorFor(agentId);
    el.textContent = initials(name || agentId);
  }
}

/** The face of an agent known from the list (its picture), else initials of the name given (a message's sender.name). */
export function forAgent(agentId, fallbackName, size) {
  var a = agents[agentId] || {};
  return face(agentId, a.displayName || fallbackName, a.avatarUrl, size);
}

/** Puts (or moves, or removes) the assignee's face just before the element (the conversation header's subtitle). */
export function assignee(beforeEl, agentId, name) {
  var old = beforeEl.parentNode.querySelector('.face.assignee');
  if (old) { old.remove(); }
  if (!agentId) { return; }
  var f = forAgent(agentId, name, 'small assignee');
  f.title = name || agentId;
  beforeEl.parentNode.insertBefore(f, beforeEl);
}

/**
 * The signed-in agent's face in the header, before its name: a button opening a small menu to upload or remove the
 * picture. me: GET /api/v1/agents/me; token(): the session's bearer token; changed(): reload what shows faces.
 */
export function mountMe(nameEl, me, token, changed) {
  var button = document.getElementById('me-face');
  if (!button) {
    button = document.createElement('button');
    button.type = 'button';
    button.id = 'me-face';
    button.className = 'me-face ghost';
    button.setAttribute('aria-haspopup', 'true');
    nameEl.parentNode.insertBefore(button, nameEl);
    menu = buildMenu(token, changed);
    nameEl.parentNode.insertBefore(menu, nameEl);
    button.addEventListener('click', function () { menu.hidden = !menu.hidden; });
  }
  button.title = t('branding.avatar.change');
  button.setAttribute('aria-label', t('branding.avatar.change'));
  while (button.firstChild) { button.removeChild(button.firstChild); }
  button.appendChild(face(me.agentId, me.displayName, me.avatarUrl || null));
  menu.querySelector('.avatar-remove').hidden = !me.avatarUrl;
}

function buildMenu(token, changed) {
  var box = document.createElement('div');
  box.className = 'avatar-menu card';
  box.id = 'avatar-menu';
  box.hidden = true;
  var hint = document.createElement('p');
  hint.className = 'muted';
  hint.textContent = t('branding.avatar.hint');
  hint.setAttribute('data-i18n', 'branding.avatar.hint'); // applyTranslations() refreshes these on a language change
  var input = document.createElement('input');
  input.type = 'file';
  input.accept = 'image/png,image/jpeg,image/webp';
  input.id = 'avatar-file';
  input.hidden = true;
  var upload = document.createElement('button');
  upload.type = 'button';
  upload.className = 'primary avatar-upload';
  upload.textContent = t('branding.avatar.upload');
  upload.setAttribute('data-i18n', 'branding.avatar.upload');
  upload.addEventListener('click', function () { input.click(); });
  var remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'ghost avatar-remove';
  remove.textContent = t('branding.avatar.remove');
  remove.setAttribute('data-i18n', 'branding.avatar.remove');
  var status = document.createElement('p');
  status.className = 'avatar-status';
  status.setAttribute('role', 'status');
  function send(method, body, type) {
    status.textContent = '';
    var headers = { Accept: 'application/json', Authorization: 'Bearer ' + token() };
    if (type) { headers['Content-Type'] = type; }
    return fetch('/api/v1/agents/me/avatar', { method: method, headers: headers, body: body }).then(function (r) {
      if (r.ok) { box.hidden = true; changed(); return; }
      return r.json().catch(function () { return {}; }).then(function (p) {
        status.textContent = r.status === 413 ? t('branding.avatar.tooLarge') : r.status === 415 ? t('branding.avatar.badType') : (p.detail || t('branding.avatar.failed'));
      });
    }, function () { status.textContent = t('branding.avatar.failed'); });
  }
  input.addEventListener('change', function () {
    var file = input.files && input.files[0];
    input.value = '';
    if (file) { send('PUT', file, file.type || 'application/octet-stream'); }
  });
  remove.addEventListener('click', function () { send('DELETE'); });
  [hint, upload, remove, input, status].forEach(function (c) { box.appendChild(c); });
  return box;
}
