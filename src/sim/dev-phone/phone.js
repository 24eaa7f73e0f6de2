// The dev phone: places calls through the simulator's control API, hears what
// the simulator plays (the same audio, at the simulator's pace), presses keys,
// speaks from the microphone or a WAV file when the IVR records, and answers
// calls that ring the number it claimed. Events arrive as Server-Sent Events.

const token = new URLSearchParams(location.search).get('token') ?? '';
const $ = (id) => document.getElementById(id);
const RATE = 8000;
/** Microphone audio goes to the simulator in pieces of this many samples (250 ms). */
const CHUNK = 2000;

const phone = {
  speedFactor: 1,
  call: undefined,
  ringing: undefined,
  startedAt: 0,
  audio: new Map(),
  recording: false,
  mic: undefined,
  sending: Promise.resolve(),
  events: undefined,
  played: 0,
  /** Whether the audio output was set up (primeAudio). */
  primed: false,
  /** The words of media URIs, as the platform told them. */
  captions: new Map(),
  /** Keys go out one after another, in the order pressed. */
  keys: Promise.resolve(),
};

function headers(type) {
  const h = { authorization: `Bearer ${token}` };
  if (type) h['content-type'] = type;
  return h;
}

async function api(method, path, body, type = 'application/json') {
  const init = { method, headers: headers(body === undefined ? undefined : type) };
  if (body !== undefined) init.body = type === 'application/json' ? JSON.stringify(body) : body;
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error?.message ?? `${method} ${path}: ${res.status}`);
  return data;
}

// ---- the log -------------------------------------------------------------------

const clock = () => {
  const ms = Date.now() - (phone.startedAt || Date.now());
  const s = Math.max(0, ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${(s % 60).toFixed(1).padStart(4, '0')}`;
};

function log(kind, icon, text, detail, data = {}) {
  const li = document.createElement('li');
  li.dataset.kind = kind;
  for (const [k, v] of Object.entries(data)) li.dataset[k] = String(v);
  const t = document.createElement('span');
  t.className = 't';
  t.textContent = clock();
  const i = document.createElement('span');
  i.textContent = icon;
  const w = document.createElement('span');
  w.className = 'what';
  w.textContent = text;
  if (detail) {
    const d = document.createElement('div');
    d.className = 'detail';
    d.textContent = detail;
    w.append(d);
  }
  li.append(t, i, w);
  const list = $('log');
  list.append(li);
  while (list.children.length > 500) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

/** A media URI as a person reads it. */
function mediaName(uri) {
  const m = /^sound:https?:\/\/[^/]+\/audio\/([^/]+)\//.exec(uri);
  if (m) return `audio ${m[1].slice(0, 12)}`;
  return uri.replace(/^sound:/, '');
}

// ---- state shown ---------------------------------------------------------------

function setState(state, text) {
  document.body.dataset.state = state;
  $('status').textContent = text;
  const live = state === 'up' || state === 'calling';
  $('hangup').disabled = !live;
  $('call').disabled = live;
  for (const b of $('keypad').querySelectorAll('button')) b.disabled = state !== 'up';
}

setInterval(() => {
  if (!phone.call) return;
  const s = Math.floor((Date.now() - phone.startedAt) / 1000);
  $('timer').textContent = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}, 250);

function callEnded(why) {
  if (!phone.call) return;
  stopAllAudio();
  stopMic(false);
  phone.call = undefined;
  $('now').textContent = '\u00a0';
  $('rec').hidden = true;
  setState('idle', 'Call ended');
  log('call', '☎', 'Call ended', why);
}

// ---- hearing what the simulator plays -------------------------------------------

function startAudio(playbackId, uri) {
  stopAudio(playbackId);
  $('now').textContent = `▶ ${phone.captions.get(uri) ?? mediaName(uri)}`;
  const entry = { uri, began: performance.now(), heard: false, keyed: false, el: undefined };
  phone.audio.set(playbackId, entry);
  if (!/^(sound|recording):/.test(uri)) return;
  const el = new Audio(`/dev/phone/media?token=${encodeURIComponent(token)}&uri=${encodeURIComponent(uri)}`);
  el.playbackRate = Math.min(16, Math.max(0.25, phone.speedFactor));
  entry.el = el;
  el.addEventListener('playing', () => {
    if (!entry.heard) entry.began = performance.now();
    entry.heard = true;
  });
  el.play().catch((e) => log('error', '⚠', `Could not play ${mediaName(uri)}`, e.message));
}

/**
 * Plays a twentieth of a second of silence, once, from the click that starts
 * or answers a call: the browser sets up its audio output then, not when the
 * first prompt arrives (a short prompt played fast could end before a cold
 * audio pipeline started it).
 */
function primeAudio() {
  if (phone.primed) return;
  phone.primed = true;
  const url = URL.createObjectURL(wav(new Int16Array(RATE / 20)));
  const el = new Audio(url);
  const done = () => URL.revokeObjectURL(url);
  el.addEventListener('ended', done);
  el.play().catch(done);
}

function stopAudio(playbackId, how) {
  const entry = phone.audio.get(playbackId);
  if (!entry) return;
  phone.audio.delete(playbackId);
  const el = entry.el;
  const ms = Math.round((performance.now() - entry.began) * phone.speedFactor);
  if (el) {
    el.pause();
    el.removeAttribute('src');
  }
  if (how === undefined) return;
  phone.played++;
  document.body.dataset.played = String(phone.played);
  const length = !el ? 'no audio file' : entry.heard ? `${(ms / 1000).toFixed(1)} s` : 'not heard';
  const words = phone.captions.get(entry.uri);
  log(
    'played',
    how === 'stopped' ? '✂' : '♪',
    words ? `“${words}”` : mediaName(entry.uri),
    `${how === 'stopped' ? 'cut short by a key' : 'played'} · ${length}`,
    {
      media: entry.uri,
      ms: entry.heard ? ms : 0,
      heard: entry.heard,
      how,
    },
  );
}

function stopAllAudio() {
  for (const id of [...phone.audio.keys()]) stopAudio(id, 'stopped');
}

// ---- the caller's voice ----------------------------------------------------------

function wav(samples) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const text = (at, s) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, RATE, true);
  v.setUint32(28, RATE * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + i * 2, samples[i], true);
  return new Blob([buf], { type: 'audio/wav' });
}

/** Averages the context's samples down to 8 kHz, as 16-bit integers. */
function downsample(input, rate) {
  const step = rate / RATE;
  const out = new Int16Array(Math.floor(input.length / step));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    let n = 0;
    for (let j = Math.floor(i * step); j < Math.floor((i + 1) * step) && j < input.length; j++, n++) sum += input[j];
    const s = n ? sum / n : 0;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(s * 32767)));
  }
  return out;
}

function sendSpeech(samples) {
  const id = phone.call;
  if (!id || samples.length === 0) return;
  phone.sending = phone.sending
    .then(() => api('POST', `/sim/calls/${encodeURIComponent(id)}/speech?continues=1`, wav(samples), 'audio/wav'))
    .catch((e) => log('error', '⚠', 'Speech not sent', e.message));
}

async function startMic() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    log('error', '⚠', 'No microphone', `${e.message}; choose a WAV file instead`);
    return;
  }
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const mic = { stream, ctx, proc, source, pending: [], pendingLen: 0, total: 0 };
  phone.mic = mic;
  proc.onaudioprocess = (e) => {
    if (phone.mic !== mic) return;
    const part = downsample(e.inputBuffer.getChannelData(0), ctx.sampleRate);
    mic.pending.push(part);
    mic.pendingLen += part.length;
    mic.total += part.length;
    $('rec-text').textContent = `Recording from the microphone · ${(mic.total / RATE).toFixed(1)} s`;
    if (mic.pendingLen >= CHUNK) flushMic(mic);
  };
  source.connect(proc);
  proc.connect(ctx.destination);
  log('you', '●', 'Speaking from the microphone', 'press # when you are done');
}

function flushMic(mic) {
  const all = new Int16Array(mic.pendingLen);
  let at = 0;
  for (const p of mic.pending) {
    all.set(p, at);
    at += p.length;
  }
  mic.pending = [];
  mic.pendingLen = 0;
  sendSpeech(all);
}

/** Stops the microphone; what it heard so far is sent first. Resolves once the simulator has it all. */
function stopMic(send = true) {
  const mic = phone.mic;
  if (!mic) return phone.sending;
  phone.mic = undefined;
  if (send) flushMic(mic);
  mic.proc.disconnect();
  mic.source.disconnect();
  for (const t of mic.stream.getTracks()) t.stop();
  mic.ctx.close();
  const ms = Math.round((mic.total / RATE) * 1000);
  document.body.dataset.recordedMs = String(ms);
  log('you', '●', 'Microphone off', `${(ms / 1000).toFixed(1)} s of speech sent`, { recordedMs: ms });
  return phone.sending;
}

async function speakFile() {
  const file = $('wav').files[0];
  if (!file) {
    log('error', '⚠', 'No WAV file chosen', 'choose one, or switch to the microphone');
    return;
  }
  try {
    await api('POST', `/sim/calls/${encodeURIComponent(phone.call)}/speech`, file, 'audio/wav');
    log('you', '♪', `Said ${file.name}`, `${Math.round(file.size / 1024)} KB`);
  } catch (e) {
    log('error', '⚠', `${file.name} was refused`, e.message);
  }
}

function recordingStarted() {
  phone.recording = true;
  $('rec').hidden = false;
  $('rec-text').textContent = 'Recording';
  if (document.querySelector('input[name=voice]:checked')?.value === 'file') void speakFile();
  else void startMic();
}

// ---- keys ------------------------------------------------------------------------

function press(key) {
  phone.keys = phone.keys.then(() => sendKey(key));
  return phone.keys;
}

async function sendKey(key) {
  if (!phone.call) return;
  const button = $('keypad').querySelector(`[data-key="${CSS.escape(key)}"]`);
  button?.classList.add('pressed');
  setTimeout(() => button?.classList.remove('pressed'), 150);
  for (const entry of phone.audio.values()) entry.keyed = true;
  // Speech streamed so far reaches the simulator before the key that ends the recording.
  if (phone.mic) await stopMic();
  log('you', '⌨', `You pressed ${key}`);
  try {
    await api('POST', `/sim/calls/${encodeURIComponent(phone.call)}/keys`, { digits: key });
  } catch (e) {
    log('error', '⚠', 'Key not sent', e.message);
  }
}

// ---- events from the simulator -------------------------------------------------------

function concerns(e) {
  const id = phone.call ?? phone.ringing?.channelId;
  if (!id) return false;
  const target = `channel:${id}`;
  return (
    e.channel?.id === id || e.peer?.id === id || e.playback?.target_uri === target || e.recording?.target_uri === target
  );
}

const DESCRIBE = {
  StasisStart: (e) => ['☎', 'The IVR took the call', `application ${e.application}`],
  StasisEnd: () => ['☎', 'The IVR let the call go'],
  ChannelStateChange: (e) => ['↔', `Line ${e.channel.state}`],
  ChannelDtmfReceived: () => ['⌨', 'The IVR got a key'],
  ChannelHangupRequest: (e) => ['☎', 'Hang-up', `cause ${e.cause}`],
  ChannelDestroyed: (e) => ['☎', 'Channel gone', e.cause_txt],
  ChannelVarset: (e) => ['=', `${e.variable} = ${e.value === '' ? '""' : e.value}`],
  Dial: (e) => ['☎', `Dial ${e.dialstatus || 'started'}`],
  PlaybackStarted: (e) => ['▶', `Playing ${mediaName(e.playback.media_uri)}`],
  PlaybackContinuing: (e) => ['▶', `Then ${mediaName(e.playback.media_uri)}`],
  PlaybackFinished: (e) => ['■', `Playback ${e.playback.state}`],
  RecordingStarted: () => ['●', 'The IVR is recording: speak now'],
  RecordingFinished: (e) => [
    '■',
    'Recording ended',
    e.recording.duration === undefined ? '' : `${e.recording.duration} s`,
  ],
};

/** Told by the entry of what was played instead. */
const QUIET = new Set(['PlaybackStarted', 'PlaybackContinuing', 'PlaybackFinished']);

function onAri(e) {
  if (!concerns(e)) return;
  const [icon, text, detail] = (DESCRIBE[e.type] ?? (() => ['·', e.type]))(e);
  if (!QUIET.has(e.type)) log('event', icon, text, detail, { type: e.type });
  switch (e.type) {
    case 'StasisStart':
      setState('up', 'Connected');
      break;
    case 'PlaybackStarted':
      startAudio(e.playback.id, e.playback.media_uri);
      break;
    case 'PlaybackContinuing':
      stopAudio(e.playback.id, 'done');
      startAudio(e.playback.id, e.playback.media_uri);
      break;
    case 'PlaybackFinished':
      stopAudio(e.playback.id, phone.audio.get(e.playback.id)?.keyed ? 'stopped' : 'done');
      $('now').textContent = '\u00a0';
      break;
    case 'RecordingStarted':
      recordingStarted();
      break;
    case 'RecordingFinished':
    case 'RecordingFailed':
      phone.recording = false;
      $('rec').hidden = true;
      void stopMic();
      break;
    case 'StasisEnd':
    case 'ChannelDestroyed':
      callEnded(e.type === 'ChannelDestroyed' ? e.cause_txt : 'the IVR hung up');
      break;
  }
}

function connectEvents() {
  phone.events?.close();
  const claim = $('claim').value.trim();
  const q = new URLSearchParams({ token });
  if (claim) q.set('claim', claim);
  const es = new EventSource(`/dev/phone/events?${q}`);
  phone.events = es;
  es.addEventListener('hello', (m) => {
    const hello = JSON.parse(m.data);
    phone.speedFactor = hello.speedFactor;
    $('link').dataset.link = 'up';
    $('link').textContent = `connected · ${hello.app} · speed ×${hello.speedFactor}`;
    fillDirectory(hello.directory ?? []);
    $('claimed').textContent = hello.claim ? `Calls to ${hello.claim} ring this page.` : '';
    document.body.dataset.claim = hello.claim ?? '';
  });
  es.addEventListener('ari', (m) => onAri(JSON.parse(m.data)));
  es.addEventListener('ringing', (m) => ringing(JSON.parse(m.data)));
  es.addEventListener('caption', (m) => {
    const c = JSON.parse(m.data);
    phone.captions.set(c.media, c.text);
    if (phone.audio.has(c.playbackId)) $('now').textContent = `▶ ${c.text}`;
  });
  es.onerror = () => {
    $('link').dataset.link = 'down';
    $('link').textContent = token ? 'simulator unreachable: retrying' : 'no token: open the URL printed at start-up';
  };
}

function fillDirectory(list) {
  const select = $('from');
  if (select.dataset.filled === 'yes') return;
  select.dataset.filled = 'yes';
  for (const d of list) select.add(new Option(`${d.name} (${d.number})`, d.number));
  select.add(new Option('Any number…', 'other'));
  if (!$('claim').value && list[0]) $('claim').placeholder = list[0].number;
  select.dispatchEvent(new Event('change'));
}

// ---- ringing -----------------------------------------------------------------------

function ringing(r) {
  if (phone.call) return;
  phone.ringing = r;
  const who = r.callerId.name ? `${r.callerId.name} (${r.callerId.number})` : r.callerId.number || 'unknown caller';
  $('incoming-from').textContent = who;
  $('incoming').hidden = false;
  document.body.dataset.state = 'ringing';
  log('call', '☎', `Incoming call from ${who}`, `to ${r.callee}`);
}

async function answerRinging(accept) {
  const r = phone.ringing;
  if (!r) return;
  if (accept) primeAudio();
  phone.ringing = undefined;
  $('incoming').hidden = true;
  try {
    await api('POST', `/dev/phone/ringing/${encodeURIComponent(r.channelId)}/${accept ? 'answer' : 'decline'}`);
  } catch (e) {
    log('error', '⚠', 'The call is gone', e.message);
    setState('idle', 'Idle');
    return;
  }
  if (!accept) {
    setState('idle', 'Declined');
    log('call', '☎', 'Declined');
    return;
  }
  phone.call = r.channelId;
  phone.startedAt = Date.now();
  setState('up', 'Connected');
  log('call', '☎', 'Answered');
}

// ---- wiring -------------------------------------------------------------------------

$('from').addEventListener('change', () => {
  $('from-other').hidden = $('from').value !== 'other';
});

$('dial-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const from = $('from').value === 'other' ? $('from-other').value.trim() : $('from').value;
  const to = $('to').value.trim();
  if (!from || !to) {
    log('error', '⚠', 'Say who calls and what to dial');
    return;
  }
  primeAudio();
  phone.startedAt = Date.now();
  setState('calling', 'Calling…');
  try {
    const call = await api('POST', '/sim/calls', { from, to });
    phone.call = call.channelId;
    log('call', '☎', `Calling ${to} as ${from}`, call.channelId);
    setState('up', 'Connected');
  } catch (e) {
    setState('idle', 'Idle');
    log('error', '⚠', 'The call did not go through', e.message);
  }
});

$('hangup').addEventListener('click', async () => {
  const id = phone.call;
  if (!id) return;
  await stopMic(false);
  try {
    await api('POST', `/sim/calls/${encodeURIComponent(id)}/hangup`);
  } catch (e) {
    log('error', '⚠', 'Hang-up failed', e.message);
  }
  callEnded('you hung up');
});

$('keypad').addEventListener('click', (ev) => {
  const key = ev.target.closest('button')?.dataset.key;
  if (key) void press(key);
});

document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (/^[0-9*#]$/.test(ev.key)) {
    ev.preventDefault();
    void press(ev.key);
  }
});

$('answer').addEventListener('click', () => void answerRinging(true));
$('decline').addEventListener('click', () => void answerRinging(false));
$('claim-set').addEventListener('click', connectEvents);
$('claim').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') connectEvents();
});
$('clear').addEventListener('click', () => {
  $('log').replaceChildren();
});

setState('idle', 'Idle');
connectEvents();
