/**
 * In-memory doubles for the IVR's unit tests: a Call and CallControl that
 * behave like the port says (barge-in, hang-up settles everything), an audio
 * service that remembers the text behind every URL, and a presence server
 * with links and a message cache. These test the verbs and flows in
 * isolation; the acceptance tests run through the simulator and the real
 * services instead.
 */
import { join } from 'node:path';
import type { Test } from 'tap';
import { AccountService } from '../../../src/accounts/account-service.js';
import { SystemClock } from '../../../src/core/clock.js';
import type { Config } from '../../../src/core/config.js';
import { silentLogger } from '../../../src/core/logger.js';
import { IvrService } from '../../../src/ivr/ivr-service.js';
import type {
  IvrAudioPort,
  IvrContact,
  IvrMessage,
  IvrPresencePort,
  OutgoingMessage,
  PresenceState,
} from '../../../src/ivr/ports.js';
import { openSqliteStore } from '../../../src/store/index.js';
import type {
  Call,
  CallControl,
  HangupInfo,
  OriginateOptions,
  OriginateResult,
  Playback,
  PlaybackOutcome,
  PlayOptions,
  RecordingResult,
  RecordOptions,
} from '../../../src/telephony/port.js';
import { testConfig } from '../../support/env.js';

export class FakeAudio implements IvrAudioPort {
  private readonly texts = new Map<string, string>();
  private n = 0;
  stored: { id: string; data: Buffer; userId: number; sessionId?: string }[] = [];

  /** Every text asked for, in order (the IVR renders ahead what may come next). */
  readonly asked: string[] = [];

  speechUrl(text: string): string {
    this.asked.push(text);
    const url = `http://audio.test/tts/${++this.n}.wav`;
    this.texts.set(url, text);
    return url;
  }

  textFor(url: string): string | undefined {
    return this.texts.get(url);
  }

  readonly linked: { id: string; messageId?: string; sessionId?: string }[] = [];

  linkRecording(id: string, link: { messageId?: string; sessionId?: string }): void {
    this.linked.push({ id, ...link });
  }

  /** How long storing a recording takes. */
  storeDelayMs = 0;

  /** Storing fails (a full disk, a broken file). */
  failStore = false;

  async storeRecording(input: { data: Buffer; userId: number; sessionId?: string }) {
    if (this.storeDelayMs) await new Promise((r) => setTimeout(r, this.storeDelayMs));
    if (this.failStore) throw new Error('disk full');
    const id = `rec${this.stored.length + 1}`;
    this.stored.push({ id, ...input });
    return { id, durationMs: input.data.length, wavUrl: `http://audio.test/rec/${id}.wav` };
  }
}

interface Member {
  deliver: ((m: IvrMessage) => void) | null;
}

export class FakePresence implements IvrPresencePort {
  readonly names = new Map<number, string>();
  readonly contactLists = new Map<number, number[]>();
  readonly states = new Map<number, PresenceState>();
  readonly sessions = new Map<string, Set<number>>();
  readonly messages: (IvrMessage & { to: number; read: boolean; dismissed: boolean })[] = [];
  readonly posted: OutgoingMessage[] = [];
  readonly declined: { userId: number; sessionId: string }[] = [];
  readonly links = new Map<number, Member>();
  private n = 0;

  constructor(private readonly now: () => number) {}

  addMessage(sessionId: string, from: number, to: number, text: string, sentAt = this.now()): IvrMessage {
    this.join(sessionId, [from, to]);
    const m = { id: `m${++this.n}`, sessionId, fromUserId: from, fromName: this.names.get(from) ?? '?', sentAt, text };
    this.messages.push({ ...m, to, read: false, dismissed: false });
    return m;
  }

  /** What a web user typing in the session does: stored, then delivered to open links. */
  send(sessionId: string, from: number, text: string): void {
    for (const to of this.sessions.get(sessionId) ?? []) {
      if (to === from) continue;
      const m = this.addMessage(sessionId, from, to, text);
      this.links.get(to)?.deliver?.(m);
    }
  }

  join(sessionId: string, users: number[]): void {
    const s = this.sessions.get(sessionId) ?? new Set<number>();
    for (const u of users) s.add(u);
    this.sessions.set(sessionId, s);
  }

  openLink(userId: number, options: { kind: 'phone'; deliver: (m: IvrMessage) => void }) {
    const member = { deliver: options.deliver };
    this.links.set(userId, member);
    this.states.set(userId, 'on-the-phone');
    return {
      close: () => {
        if (this.links.get(userId) === member) this.links.delete(userId);
        this.states.set(userId, 'offline');
      },
    };
  }

  /** How often a list of unread messages was read. */
  unreadReads = 0;

  unread(userId: number, sessionId?: string): IvrMessage[] {
    this.unreadReads++;
    return this.messages
      .filter((m) => m.to === userId && !m.read && !m.dismissed && (!sessionId || m.sessionId === sessionId))
      .map(({ to: _to, read: _r, dismissed: _d, ...m }) => m);
  }

  markRead(userId: number, ids: string[]): void {
    for (const m of this.messages) if (m.to === userId && ids.includes(m.id)) m.read = true;
  }

  dismiss(userId: number, ids: string[]): void {
    for (const m of this.messages) if (m.to === userId && ids.includes(m.id)) m.dismissed = true;
  }

  postMessage(message: OutgoingMessage): { id: string } {
    this.posted.push(message);
    return { id: `p${this.posted.length}` };
  }

  contacts(userId: number): IvrContact[] {
    return (this.contactLists.get(userId) ?? []).map((id) => ({
      userId: id,
      spokenName: this.names.get(id) ?? '?',
      state: this.states.get(id) ?? 'offline',
    }));
  }

  setPresence(userId: number, state: 'online' | 'away' | 'busy' | 'offline'): void {
    this.states.set(userId, state);
  }

  startChat(userId: number, contactUserId: number): { sessionId: string } {
    const sessionId = `s-${userId}-${contactUserId}`;
    this.join(sessionId, [userId, contactUserId]);
    return { sessionId };
  }

  joinSession(userId: number, sessionId: string): void {
    this.join(sessionId, [userId]);
  }

  declineSession(userId: number, sessionId: string): void {
    this.declined.push({ userId, sessionId });
  }

  sessionPeers(userId: number, sessionId: string): string[] {
    return [...(this.sessions.get(sessionId) ?? [])].filter((u) => u !== userId).map((u) => this.names.get(u) ?? '?');
  }
}

export type CallEvent =
  | { kind: 'play'; media: string; text: string | undefined }
  | { kind: 'record'; name: string }
  | { kind: 'hangup'; by: 'local' | 'remote' };

/**
 * One playback of one or more URIs, heard like Asterisk plays them: in order,
 * each for `ms`, and finished only after the last; a stop, a key or a hang-up
 * ends it and the rest is not heard. One timer at a time drives it, each set
 * when the previous URI has been heard, so a late event loop (a loaded
 * machine) delays the playback but never ends it before its last URI.
 */
class FakePlayback implements Playback {
  readonly done: Promise<PlaybackOutcome>;
  private resolve!: (o: PlaybackOutcome) => void;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly media: readonly string[],
    private readonly ms: number,
    private readonly heard: (media: string) => void,
  ) {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
  }

  /** Plays from the first URI on. */
  start(): void {
    this.next(0);
  }

  private next(k: number): void {
    if (this.settled) return;
    const m = this.media[k];
    if (m === undefined) {
      this.settle('finished');
      return;
    }
    this.heard(m);
    this.timer = setTimeout(() => this.next(k + 1), this.ms);
  }

  settle(o: PlaybackOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(o);
  }

  get isPlaying(): boolean {
    return !this.settled;
  }

  async stop(): Promise<void> {
    this.settle('stopped');
  }
}

export class FakeCall implements Call {
  readonly direction: 'inbound' | 'outbound';
  readonly callerName = '';
  readonly dialed = '100';
  readonly args: readonly string[] = [];
  readonly variables: Record<string, string>;
  readonly ended: Promise<HangupInfo>;
  readonly events: CallEvent[] = [];
  /** How long a playback lasts. */
  playMs = 5;
  /** Length Asterisk reports for a recording ended by its key. */
  recordingSeconds = 3;
  private voice: Buffer | null = null;
  private readonly ac = new AbortController();
  private endResolve!: (h: HangupInfo) => void;
  private readonly dtmf = new Set<(d: string, ms: number) => void>();
  private current: FakePlayback | null = null;
  private recording: { resolve: (r: RecordingResult) => void; options: RecordOptions } | null = null;
  private watchers: (() => void)[] = [];
  private cursor = 0;
  private n = 0;

  constructor(
    readonly id: string,
    readonly callerNumber: string,
    private readonly audio: FakeAudio,
    private readonly control: FakeControl,
    direction: 'inbound' | 'outbound' = 'inbound',
    variables: Record<string, string> = {},
  ) {
    this.direction = direction;
    this.variables = variables;
    this.ended = new Promise((r) => {
      this.endResolve = r;
    });
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  get isAlive(): boolean {
    return !this.ac.signal.aborted;
  }

  get dtmfListeners(): number {
    return this.dtmf.size;
  }

  private emit(e: CallEvent): void {
    this.events.push(e);
    const w = this.watchers;
    this.watchers = [];
    for (const f of w) f();
  }

  async answer(): Promise<void> {}

  async hangup(): Promise<void> {
    this.end('local');
  }

  /** The caller puts the phone down. */
  remoteHangup(): void {
    this.end('remote');
  }

  private end(by: 'local' | 'remote'): void {
    if (!this.isAlive) return;
    this.ac.abort();
    this.current?.settle('hangup');
    this.recording?.resolve({
      name: this.recording.options.name,
      outcome: 'hangup',
      durationSeconds: 0,
      format: 'wav',
    });
    this.recording = null;
    this.endResolve({ cause: 16, causeText: 'Normal Clearing', by });
    this.emit({ kind: 'hangup', by });
  }

  /** Most playbacks running at once: more than 1 means the IVR talked over itself. */
  maxOverlap = 0;
  private active = 0;

  /** Play requests made (a playback of several URIs is one). */
  playRequests = 0;

  /** Like Asterisk: the URIs of one playback are heard one after the other, each playMs; a stop ends the rest. */
  async play(media: string | readonly string[], options?: PlayOptions): Promise<Playback> {
    const list = typeof media === 'string' ? [media] : [...media];
    this.playRequests++;
    const heard = (m: string) => {
      const url = m.startsWith('sound:') ? m.slice(6) : m;
      this.emit({ kind: 'play', media: m, text: this.audio.textFor(url) });
    };
    const pb = new FakePlayback(options?.playbackId ?? `pb${++this.n}`, list, this.playMs, heard);
    this.active++;
    this.maxOverlap = Math.max(this.maxOverlap, this.active);
    void pb.done.then(() => this.active--);
    if (!this.isAlive) pb.settle('hangup');
    else {
      this.current = pb;
      pb.start();
    }
    return pb;
  }

  /** The PBX refuses to record. */
  recordFails = false;

  async record(options: RecordOptions): Promise<RecordingResult> {
    if (!this.isAlive) return { name: options.name, outcome: 'hangup', durationSeconds: 0, format: 'wav' };
    if (this.recordFails) return { name: options.name, outcome: 'failed', durationSeconds: 0, format: 'wav' };
    this.emit({ kind: 'record', name: options.name });
    return new Promise((resolve) => {
      this.recording = { resolve, options };
    });
  }

  /** The caller speaks (the audio of the next recording); a terminating key then ends the recording. */
  speak(data: Buffer): void {
    this.voice = data;
  }

  /** A recording in progress ends by itself (silence or max duration) after `seconds` of speech. */
  endRecording(seconds: number): void {
    const r = this.recording;
    if (!r) throw new Error('no recording in progress');
    this.recording = null;
    this.control.stored.set(r.options.name, this.voice ?? Buffer.alloc(0));
    this.voice = null;
    r.resolve({ name: r.options.name, outcome: 'done', durationSeconds: seconds, format: 'wav' });
  }

  onDtmf(listener: (digit: string, durationMs: number) => void): () => void {
    this.dtmf.add(listener);
    return () => this.dtmf.delete(listener);
  }

  async setVariable(): Promise<void> {}

  /** Keys, one after the other; like Asterisk, a key stops a barge-in playback. */
  press(keys: string): void {
    for (const k of keys) {
      if (!this.isAlive) return;
      const term = this.recording?.options.terminateOn ?? '#';
      if (this.recording && (term === k || term === 'any')) this.endRecording(this.voice ? this.recordingSeconds : 0);
      this.current?.settle('stopped');
      for (const l of [...this.dtmf]) l(k, 100);
    }
  }

  get heard(): string[] {
    return this.events.flatMap((e) => (e.kind === 'play' ? [e.text ?? e.media] : []));
  }

  /** Waits for the next thing played (after the ones already waited for) that matches. */
  async hears(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const e = this.events[this.cursor++] as CallEvent;
        if (e.kind === 'play' && pattern.test(e.text ?? e.media)) return e.text ?? e.media;
      }
      if (Date.now() > deadline)
        throw new Error(`did not hear ${pattern}; heard:\n  ${this.heard.slice(-12).join('\n  ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.watchers.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until a recording starts. */
  async recordingStarts(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.recording) {
      if (Date.now() > deadline) throw new Error(`no recording; heard:\n  ${this.heard.slice(-8).join('\n  ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  get isRecording(): boolean {
    return this.recording !== null;
  }
}

export class FakeControl implements CallControl {
  readonly stored = new Map<string, Buffer>();
  readonly deleted: string[] = [];
  readonly originated: OriginateOptions[] = [];
  isConnected = true;
  /** What the next originate does. */
  answer: 'answer' | 'busy' | 'no-answer' | 'failed' = 'answer';
  variables: Record<string, string> = {};
  lastCall: FakeCall | null = null;
  private listeners = new Set<(call: Call) => void>();
  private n = 0;

  constructor(private readonly audio: FakeAudio) {}

  onCall(listener: (call: Call) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A caller dials in. */
  dial(callerNumber: string): FakeCall {
    const call = new FakeCall(`ch-${++this.n}`, callerNumber, this.audio, this);
    for (const l of this.listeners) l(call);
    return call;
  }

  async originate(options: OriginateOptions): Promise<OriginateResult> {
    this.originated.push(options);
    if (this.answer === 'busy') return { status: 'busy', cause: 17, causeText: 'User busy' };
    if (this.answer === 'no-answer') return { status: 'no-answer', cause: 19, causeText: 'No answer' };
    if (this.answer === 'failed') return { status: 'failed', cause: 38, causeText: 'Network out of order' };
    const call = new FakeCall(`out-${++this.n}`, '', this.audio, this, 'outbound', this.variables);
    this.lastCall = call;
    return { status: 'answered', call };
  }

  /** Fetching a recording fails (the PBX lost it). */
  failFetch = false;

  async fetchRecording(name: string): Promise<Buffer> {
    if (this.failFetch) throw new Error('404 Recording not found');
    const data = this.stored.get(name);
    if (!data) throw new Error(`no recording ${name}`);
    return data;
  }

  async deleteRecording(name: string): Promise<void> {
    this.deleted.push(name);
    this.stored.delete(name);
  }

  async close(): Promise<void> {}
}

/** An IVR over the doubles with real accounts in SQLite, and Bob and Alice. */
export async function setupIvr(
  t: Test,
  ivrOverrides: Partial<Config['ivr']> = {},
  opts: { verifySecret?: (secret: string, stored: string) => Promise<boolean> } = {},
) {
  const dir = t.testdir({});
  const config = testConfig(dir, {
    ivr: { firstDigitTimeoutMs: 250, interDigitTimeoutMs: 150, amdListenSeconds: 0, ...ivrOverrides },
  });
  const store = openSqliteStore({ path: join(dir, 'db.sqlite'), nodeId: config.presence.nodeId });
  const clock = new SystemClock();
  const log = silentLogger();
  const accounts = new AccountService({
    repo: store.accounts,
    clock,
    config,
    log,
    ...(opts.verifySecret ? { verifySecret: opts.verifySecret } : {}),
  });
  const bob = await accounts.createUser({
    username: 'bob',
    displayName: 'Bob',
    pin: '2468',
    callerIds: ['+15550100101'],
    timeZone: 'America/New_York',
    accountNumber: '100200',
  });
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice', pin: '1357' });
  const audio = new FakeAudio();
  const control = new FakeControl(audio);
  const presence = new FakePresence(() => clock.now());
  presence.names.set(bob.id, 'Bob');
  presence.names.set(alice.id, 'Alice');
  presence.contactLists.set(bob.id, [alice.id]);
  const resume = {
    remember: (userId: number, position: { sessionId: string }, now: number) =>
      store.ivrResume.remember(userId, position, now, now + 3600_000),
    recall: (userId: number, now: number) => store.ivrResume.recall(userId, now),
    forget: (userId: number) => store.ivrResume.forget(userId),
  };
  const ivr = new IvrService({ control, audio, presence, resume, accounts, clock, config, log });
  ivr.start();
  t.teardown(async () => {
    await ivr.stop();
    await store.close();
  });
  const idle = async () => {
    for (let i = 0; i < 200 && ivr.activeCalls > 0; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return { config, store, clock, accounts, bob, alice, audio, control, presence, resume, ivr, idle };
}
