/* Kefu console: the agent's own preferences (issue #18) — the console's language, an email address and whether to be
 * told by email while no console is open, and the time zone times are shown in — read at sign-in (before anything is
 * drawn, see app.js start) and edited in a dialog opened from the agent's name in the header. Saved with PUT /api/v1/agents/me/preferences; a
 * refused save shows the server's problem details in the dialog. A new language takes effect by loading the page
 * again (the session stays), so every text, already drawn or not, is in it. */
import { t, problem, applyPreferences, applyTranslations, language, timeZone } from './i18n.js';

var PATH = '/api/v1/agents/me/preferences';
var $ = function (id) { return document.getElementById(id); };
var saved = { language: null, email: null, emailNotifications: false, timeZone: null };

/**
 * Reads the signed-in agent's preferences (api: app.js's call helper); resolves to them, or to null when they cannot be
 * read (the console then stays in the language it remembered, rather than switching on a network hiccup).
 */
export function loadPreferences(api) {
  return api('GET', PATH).then(function (r) {
    if (!r.ok || !r.body) { return null; }
    saved = r.body;
    return saved;
  }, function () { return null; });
}

function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
}

var zonesListed = false;
function listZones() {
  if (zonesListed || typeof Intl.supportedValuesOf !== 'function') { return; }
  zonesListed = true;
  var list = $('pref-time-zones');
  Intl.supportedValuesOf('timeZone').forEach(function (z) {
    var o = document.createElement('option');
    o.value = z;
    list.appendChild(o);
  });
}

function showError(text) {
  var box = $('preferences-error');
  box.textContent = text || '';
  box.hidden = !text;
}

/**
 * Makes the agent's name in the top bar open the dialog (a button for keyboards and screen readers too): the bar has no
 * room left for one more control on a laptop screen.
 */
export function attachPreferences(trigger, api) {
  trigger.classList.add('prefs-trigger');
  trigger.setAttribute('role', 'button');
  trigger.setAttribute('tabindex', '0');
  trigger.setAttribute('aria-haspopup', 'dialog');
  trigger.setAttribute('title', t('me.preferences'));
  trigger.setAttribute('data-i18n-title', 'me.preferences');
  trigger.addEventListener('click', function () { openPreferences(api); });
  trigger.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openPreferences(api); }
  });
}

/** Opens the dialog with the agent's current preferences (read again, another tab may have changed them). */
function openPreferences(api) {
  var dialog = $('preferences');
  listZones();
  showError(null);
  applyTranslations(dialog);
  $('pref-time-zone-hint').textContent = t('prefs.time_zone_browser', { zone: browserZone() });
  loadPreferences(api).then(function (p) {
    p = p || saved;
    $('pref-language').value = p.language || '';
    $('pref-email').value = p.email || '';
    $('pref-email-notifications').checked = !!p.emailNotifications;
    $('pref-time-zone').value = p.timeZone || '';
    if (!dialog.open) { dialog.showModal(); }
    $('pref-language').focus();
  });

  if (dialog.getAttribute('data-wired')) { return; }
  dialog.setAttribute('data-wired', 'true');
  $('preferences-cancel').addEventListener('click', function () { dialog.close(); });
  $('preferences-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var body = {
      language: $('pref-language').value || null,
      email: $('pref-email').value.trim() || null,
      emailNotifications: $('pref-email-notifications').checked,
      timeZone: $('pref-time-zone').value.trim() || null,
    };
    $('preferences-save').disabled = true;
    api('PUT', PATH, body).then(function (r) {
      $('preferences-save').disabled = false;
      if (!r.ok) { showError(problem(r)); return; }
      saved = r.body || body;
      var zoneBefore = timeZone();
      var languageBefore = language();
      applyPreferences(saved);
      dialog.close();
      // Dates already drawn are in the old zone and strings in the old language: draw the page again.
      if (languageBefore !== language() || zoneBefore !== timeZone()) { location.reload(); return; }
      showSaved();
    });
  });
}

function showSaved() {
  var el = $('toast');
  if (!el) { return; }
  el.textContent = t('prefs.saved');
  el.className = 'toast';
  el.hidden = false;
  setTimeout(function () { el.hidden = true; }, 2500);
}
