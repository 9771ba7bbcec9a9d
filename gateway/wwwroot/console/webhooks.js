import { $, h, clear, fmtTime, toast, problemText, signedOut, readSession, api as callApi } from './page-kit.js';
import { t, tv } from './i18n.js';

// The webhooks admin page (docs/integration.md §10): endpoints, their recent deliveries with status and response
// excerpt, retry and replay. Plain DOM like the console; it uses the console's signed-in session (same origin).
(function () {
  'use strict';

  var TYPES = ['conversation.created', 'conversation.updated', 'conversation.status_changed', 'conversation.assigned',
    'conversation.transferred', 'conversation.rated', 'message.created', 'note.created', 'contact.created', 'contact.updated',
    'inbound.received', 'webhook.endpoint_disabled'];
  var REFRESH_EVERY = 3000;
  var session = readSession();
  function api(method, path, body) { return callApi(session, method, path, body); }

  var endpoints = [];
  var selected = null;

  function statusOf(e) {
    var retries = e.pendingRetries ? t('webhooks.to_retry', { n: e.pendingRetries }) : '';
    if (!e.enabled) { return { text: e.disabledReason ? t('webhooks.disabled_because', { reason: e.disabledReason }) : t('webhooks.disabled'), cls: 'status-disabled' }; }
    if (e.circuitOpenUntil) { return { text: t('webhooks.paused_until', { time: fmtTime(e.circuitOpenUntil) }), cls: 'status-paused' }; }
    if (e.failingSince) { return { text: t('webhooks.failing_since', { time: fmtTime(e.failingSince) }) + retries, cls: 'status-paused' }; }
    return { text: t('webhooks.active') + retries, cls: 'status-ok' };
  }

  function loadEndpoints() {
    return api('GET', '/api/v1/webhooks').then(function (r) {
      if (!r.ok) { if (r.status === 403) { signedOut(); } return; }
      endpoints = r.body.webhooks || [];
      renderEndpoints();
    });
  }

  function renderEndpoints() {
    var body = $('endpoints-body');
    clear(body);
    $('endpoints-empty').hidden = endpoints.length > 0;
    endpoints.forEach(function (e) {
      var status = statusOf(e);
      var row = h('tr', { 'data-endpoint': e.id, class: selected === e.id ? 'selected' : null }, [
        h('td', { class: 'url' }, [h('div', { text: e.url }), e.description ? h('div', { class: 'muted', text: e.description }) : null]),
        h('td', { text: e.events.join(', ') + (e.inboxes ? t('webhooks.inboxes_of', { inboxes: e.inboxes.join(', ') }) : '') }),
        h('td', { class: 'status ' + status.cls, text: status.text }),
        h('td', { text: fmtTime(e.lastSuccessAt) }),
        h('td', {}, [h('div', { class: 'actions' }, [
          h('button', { type: 'button', text: t('webhooks.deliveries'), onclick: function () { select(e.id); } }),
          h('button', { type: 'button', text: e.enabled ? t('webhooks.disable') : t('webhooks.enable'), onclick: function () { setEnabled(e, !e.enabled); } }),
          h('button', { type: 'button', text: t('webhooks.rotate'), onclick: function () { rotate(e); } }),
          h('button', { type: 'button', text: t('common.delete'), onclick: function () { remove(e); } }),
        ])]),
      ]);
      body.appendChild(row);
    });
  }

  function setEnabled(e, enabled) {
    api('PATCH', '/api/v1/webhooks/' + e.id, { enabled: enabled }).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(enabled ? t('webhooks.enabled_toast') : t('webhooks.disabled_toast'));
      loadEndpoints();
    });
  }

  function rotate(e) {
    if (!confirm(t('webhooks.confirm_rotate', { url: e.url }))) { return; }
    api('POST', '/api/v1/webhooks/' + e.id + '/rotate-secret').then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      showSecret(r.body.secret);
      loadEndpoints();
    });
  }

  function remove(e) {
    if (!confirm(t('webhooks.confirm_delete', { url: e.url }))) { return; }
    api('DELETE', '/api/v1/webhooks/' + e.id).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      if (selected === e.id) { selected = null; $('deliveries').hidden = true; }
      toast(t('common.deleted'));
      loadEndpoints();
    });
  }

  function showSecret(secret) {
    $('secret-value').textContent = secret;
    $('secret-box').hidden = false;
  }

  function select(id) {
    selected = id;
    var e = endpoints.filter(function (x) { return x.id === id; })[0];
    $('deliveries-url').textContent = e ? e.url : id;
    $('deliveries').hidden = false;
    renderEndpoints();
    loadDeliveries();
  }

  function loadDeliveries() {
    if (!selected) { return Promise.resolve(); }
    var status = $('deliveries-status').value;
    var id = selected;
    return api('GET', '/api/v1/webhooks/' + id + '/deliveries?limit=100' + (status ? '&status=' + status : '')).then(function (r) {
      if (!r.ok || id !== selected) { return; }
      renderDeliveries(r.body.deliveries || []);
    });
  }

  function renderDeliveries(deliveries) {
    var body = $('deliveries-body');
    clear(body);
    $('deliveries-empty').hidden = deliveries.length > 0;
    deliveries.forEach(function (d) {
      var next = d.status === 'failed' ? (d.final ? t('webhooks.final') : t('webhooks.next', { time: fmtTime(d.nextAttemptAt) })) : '';
      body.appendChild(h('tr', { 'data-delivery': d.id, 'data-status': d.status }, [
        h('td', { text: fmtTime(d.at) }),
        h('td', {}, [h('div', { text: d.eventType }), h('div', { class: 'muted', text: d.eventId })]),
        h('td', { text: String(d.attempt) }),
        h('td', { class: d.status === 'succeeded' ? 'status-ok' : 'status-disabled', text: tv('webhooks.status', d.status) + (next ? ' (' + next + ')' : '') }),
        h('td', { class: 'http', text: d.httpStatus === null ? '—' : String(d.httpStatus) }),
        h('td', { text: t('routing.ms', { n: d.latencyMs }) }),
        h('td', { class: 'excerpt', text: d.responseExcerpt || d.error || '' }),
        h('td', {}, [h('div', { class: 'actions' }, [
          h('button', { type: 'button', text: t('common.retry'), onclick: function () { retry(d); } }),
          h('button', { type: 'button', text: t('webhooks.replay_from_here'), title: t('webhooks.replay_title'), onclick: function () { replay(previous(d.cursor)); } }),
        ])]),
      ]));
    });
  }

  // The cursor before this one: replay is "after a cursor", so this event is included.
  function previous(cursor) {
    var n = BigInt('0x' + cursor) - 1n;
    return (n < 0n ? 0n : n).toString(16).padStart(16, '0');
  }

  function retry(d) {
    api('POST', '/api/v1/webhooks/' + selected + '/deliveries/' + d.id + '/retry').then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(t('webhooks.sending_again', { type: d.eventType }));
      setTimeout(loadDeliveries, 500);
    });
  }

  function replay(after) {
    api('POST', '/api/v1/webhooks/' + selected + '/replay', { after: after }).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      toast(t('webhooks.replaying', { cursor: after }));
      setTimeout(loadDeliveries, 500);
    });
  }

  $('deliveries-status').addEventListener('change', loadDeliveries);
  $('replay-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    replay(ev.target.elements.after.value.trim());
  });

  $('endpoint-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var events = Array.prototype.map.call(form.querySelectorAll('#endpoint-events input:checked'), function (i) { return i.value; });
    if (events.length === 0) { toast(t('webhooks.choose_event'), true); return; }
    var inboxes = form.elements.inboxes.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    api('POST', '/api/v1/webhooks', {
      url: form.elements.url.value.trim(),
      events: events,
      inboxes: inboxes.length ? inboxes : null,
      description: form.elements.description.value.trim() || null,
    }).then(function (r) {
      if (!r.ok) { toast(problemText(r), true); return; }
      showSecret(r.body.secret);
      form.reset();
      toast(t('webhooks.created'));
      loadEndpoints();
    });
  });

  function renderEventChoices() {
    var box = $('endpoint-events');
    box.appendChild(h('label', { class: 'check' }, [h('input', { type: 'checkbox', value: '*' }), ' ' + t('webhooks.all_events')]));
    TYPES.forEach(function (type) {
      box.appendChild(h('label', { class: 'check' }, [h('input', { type: 'checkbox', value: type }), ' ' + type]));
    });
  }

  if (!session || !session.token) {
    signedOut();
    return;
  }

  $('app').hidden = false;
  renderEventChoices();
  loadEndpoints();
  setInterval(function () {
    if (document.hidden || $('app').hidden) { return; }
    loadEndpoints();
    loadDeliveries();
  }, REFRESH_EVERY);
})();
