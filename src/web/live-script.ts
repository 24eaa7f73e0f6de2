/**
 * The script thin-client pages load when JavaScript is on: it opens the
 * WebSocket (the session cookie authenticates it) and applies events to the
 * page in place. User text only ever enters the page through textContent.
 * Without it the pages still work: they reload themselves (noscript refresh).
 */
export const LIVE_JS = `'use strict';
(function () {
  var body = document.body;
  var sessionId = body.getAttribute('data-session');
  var me = body.getAttribute('data-me');
  var tz = body.getAttribute('data-tz') || undefined;
  function timeOf(ms) {
    var d = new Date(ms);
    var el = document.createElement('time');
    el.setAttribute('datetime', d.toISOString());
    try {
      el.textContent = d.toLocaleTimeString('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch (x) {
      el.textContent = d.toLocaleTimeString();
    }
    return el;
  }
  function voiceOf(url, from) {
    var box = document.createElement('span');
    box.className = 'voice';
    var audio = document.createElement('audio');
    audio.controls = true;
    audio.preload = 'metadata';
    audio.src = url;
    audio.setAttribute('aria-label', 'Voice message from ' + from);
    var len = document.createElement('span');
    len.className = 'duration';
    audio.addEventListener('loadedmetadata', function () {
      var s = Math.round(audio.duration);
      if (isFinite(s)) len.textContent = ' ' + Math.floor(s / 60) + ':' + (s % 60 < 10 ? '0' : '') + (s % 60);
    });
    box.appendChild(audio);
    box.appendChild(len);
    return box;
  }
  var names = {};
  try { names = JSON.parse(body.getAttribute('data-names') || '{}'); } catch (e) { names = {}; }
  var labels = { online: 'online', 'on-the-phone': 'on the phone', away: 'away', busy: 'busy', offline: 'offline' };
  var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  var ws = new WebSocket(proto + '//' + location.host + '/api/v1/ws?replay=false');
  document.documentElement.setAttribute('data-live', 'connecting');
  function seen(id) { return document.querySelector('#messages li[data-id="' + id + '"]') !== null; }
  function addMessage(m) {
    var list = document.getElementById('messages');
    if (!list || seen(m.id)) return;
    var li = document.createElement('li');
    var from = String(m.fromUserId) === me ? 'You' : (names[m.fromUserId] || ('user ' + m.fromUserId));
    li.className = String(m.fromUserId) === me ? 'message mine' : 'message';
    li.setAttribute('data-id', m.id);
    li.appendChild(timeOf(m.createdAt));
    li.appendChild(document.createTextNode(' '));
    var b = document.createElement('b');
    b.className = 'from';
    b.textContent = from + ':';
    var span = document.createElement('span');
    span.className = 'text';
    span.textContent = m.text === null ? '(voice message)' : m.text;
    li.appendChild(b);
    li.appendChild(document.createTextNode(' '));
    li.appendChild(span);
    if (m.audioUrl) li.appendChild(voiceOf(m.audioUrl, from));
    list.appendChild(li);
    if (String(m.fromUserId) !== me) ws.send(JSON.stringify({ type: 'read', messageIds: [m.id] }));
  }
  function notice(text) {
    var box = document.getElementById('live-notices');
    if (!box) return;
    var p = document.createElement('p');
    p.textContent = text;
    box.appendChild(p);
  }
  ws.onopen = function () {
    document.documentElement.setAttribute('data-live', 'open');
    var last = document.querySelector('#messages li:last-child');
    if (!sessionId) return;
    var after = last ? last.getAttribute('data-id') : '0';
    fetch('/api/v1/sessions/' + encodeURIComponent(sessionId) + '/messages?after=' + after, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (d) { d.messages.forEach(addMessage); })
      .catch(function () {});
  };
  ws.onclose = function () { document.documentElement.setAttribute('data-live', 'closed'); };
  ws.onmessage = function (ev) {
    var e;
    try { e = JSON.parse(ev.data); } catch (x) { return; }
    if (e.type === 'message' && sessionId && e.message.sessionId === sessionId) addMessage(e.message);
    else if (e.type === 'message' && !sessionId) notice('New message from ' + (names[e.message.fromUserId] || 'a contact'));
    else if (e.type === 'presence') {
      var el = document.querySelector('[data-presence-user="' + e.presence.userId + '"]');
      if (el) {
        el.textContent = labels[e.presence.state] || e.presence.state;
        var item = el.closest('[data-state]');
        if (item) item.setAttribute('data-state', e.presence.state);
        var st = item ? item.querySelector('.status-text') : null;
        if (st) st.textContent = e.presence.statusText || '';
      }
    } else if (e.type === 'invite') notice('You are invited to a chat; reload to answer.');
  };
  var form = document.getElementById('send');
  var input = document.getElementById('text');
  var sendError = document.getElementById('send-error');
  // The limit is in UTF-8 bytes, as the server counts it (maxlength would count characters).
  var maxBytes = input ? Number(input.getAttribute('data-max-bytes')) || 0 : 0;
  function refused(text) {
    if (!sendError) return;
    sendError.textContent = text;
    sendError.hidden = false;
  }
  if (form && input && sessionId) {
    var ref = 0;
    var pending = {};
    form.addEventListener('submit', function (ev) {
      if (ws.readyState !== 1) return;
      ev.preventDefault();
      var text = input.value;
      if (!text.trim()) return;
      var bytes = new TextEncoder().encode(text).length;
      if (maxBytes && bytes > maxBytes) {
        refused('Not sent: the message has ' + bytes + ' bytes; at most ' + maxBytes + ' fit (letters with accents and emoji take more than one).');
        return;
      }
      ref++;
      pending[ref] = text;
      ws.send(JSON.stringify({ type: 'send', ref: ref, sessionId: sessionId, text: text }));
      input.value = '';
      if (sendError) sendError.hidden = true;
    });
    ws.addEventListener('message', function (ev) {
      var e;
      try { e = JSON.parse(ev.data); } catch (x) { return; }
      if (e.type === 'ack' && e.message) {
        delete pending[e.ref];
        addMessage(e.message);
      } else if (e.type === 'error' && e.error) {
        // A refused message comes back into the field (unless something new was typed) with why.
        var kept = pending[e.ref];
        delete pending[e.ref];
        if (kept !== undefined && input.value === '') input.value = kept;
        refused('Not sent: ' + e.error.message);
      }
    });
  }
})();
`;
