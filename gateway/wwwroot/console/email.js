/* Kefu console: the inbox editor's email settings (docs/email.md). A checkbox added next to the pre-chat form's, so
 * index.html stays as it is; app.js calls fillInboxEmail when an inbox is edited and inboxEmailRequest when it is saved. */
import { t } from './i18n.js';

function checkbox(form) {
  var box = form.querySelector('input[name=transcriptOnResolve]');
  if (box) { return box; }
  box = document.createElement('input');
  box.type = 'checkbox';
  box.name = 'transcriptOnResolve';
  var label = document.createElement('label');
  label.className = 'check';
  label.appendChild(box);
  label.appendChild(document.createTextNode(' '));
  var text = document.createElement('span');
  text.setAttribute('data-i18n', 'email.transcriptOnResolve'); // re-translated when the console's language changes
  text.textContent = t('email.transcriptOnResolve');
  label.appendChild(text);
  var anchor = form.preChatForm ? form.preChatForm.closest('label') : null;
  if (anchor && anchor.parentNode) { anchor.parentNode.insertBefore(label, anchor.nextSibling); } else { form.appendChild(label); }
  return box;
}

/** Shows the inbox's email settings in the editor. */
export function fillInboxEmail(form, inbox) {
  checkbox(form).checked = !!(inbox && inbox.email && inbox.email.transcriptOnResolve);
}

/** The email settings for the inbox API's PUT body. */
export function inboxEmailRequest(form) {
  return { transcriptOnResolve: checkbox(form).checked };
}

/** Adds the checkbox as soon as the console starts (a new inbox gets it too). */
export function initInboxEmail(form) {
  if (form) { checkbox(form); }
}
