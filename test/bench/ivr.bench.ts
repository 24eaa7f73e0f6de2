/**
 * IVR under load: 500 concurrent callers through the built-in softswitch
 * simulator (real ARI over loopback, the real ari-client adapter, the real
 * audio and presence servers, all in this one process), each logging on by
 * caller ID + PIN and listening to 3 new messages, then hanging up.
 *
 * Prints calls completed, the time from a key press (as the simulator sends
 * the DTMF event) to the IVR's next playback request (as the simulator
 * receives it) - after the PIN's '#' (includes the PIN check) and after a
 * menu key - and the event loop's lag p99.
 *
 * Bounded: 500 calls, placed over RAMP_MS, at most DEADLINE_MS in all.
 * Speech for prompts, names and message texts is rendered before the calls
 * start (the audio server's pre-rendering), so the figures are the IVR's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Platform } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { PROMPTS } from '../../src/ivr/prompts.js';

/** `node ivr.bench.js [calls] [log level]`: 500 calls and no log by default. */
const CALLS = Math.min(2000, Math.max(1, Number(process.argv[2] ?? 500) || 500));
const LOG_LEVEL = process.argv[3];
const MESSAGES = 3;
const SPEED = 20;
const RAMP_MS = 2000;
const DEADLINE_MS = 240_000;
const TEXTS = ['Are you coming to the meeting?', 'The train is late again.', 'Call me when you can.'];

const dir = mkdtempSync(join(tmpdir(), 'bench-ivr-'));
const config = loadConfig({
  env: {},
  overrides: {
    dataDir: dir,
    log: { level: 'silent' },
    http: { port: 0 },
    accounts: { kdfCost: 1024 },
    sim: { speedFactor: SPEED },
    ivr: { firstDigitTimeoutMs: 30_000, interDigitTimeoutMs: 10_000, amdListenSeconds: 0 },
  },
});
const platform = new Platform({
  config,
  log: LOG_LEVEL ? createLogger({ level: LOG_LEVEL }) : silentLogger(),
});
const number = (i: number) => `+1555020${String(i).padStart(4, '0')}`;
let exitCode = 0;

try {
  await platform.start();
  const { accounts, presence, audio } = platform.services;
  const sim = platform.sim;
  if (!sim) throw new Error('no simulator');
  for (let i = 0; i < 400 && !platform.callControl?.isConnected; i++) await new Promise((r) => setTimeout(r, 10));

  // ---- the community: one sender, CALLS callers with 3 new messages each --------------
  const setupStart = performance.now();
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice' });
  const callers: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const u = await accounts.createUser({
      username: `caller${i}`,
      displayName: `Caller ${i}`,
      pin: '2468',
      callerIds: [number(i)],
    });
    callers.push(u.id);
    if ((await presence.requestContact(alice.id, u.id)) === 'requested') await presence.approveContact(u.id, alice.id);
    const s = await presence.createSession(alice.id, [u.id]);
    await Promise.all(TEXTS.map((text) => presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text })));
  }
  const toRender = [...Object.values(PROMPTS), ...TEXTS, 'You have 3 new messages.', 'First message.', 'Message 2.'];
  toRender.push('Last message.');
  for (let i = 0; i < CALLS; i++) toRender.push(`Welcome back, Caller ${i}. Please enter your PIN, then press pound.`);
  for (let m = -2; m <= 2; m++) {
    const at = Date.now() + m * 60_000;
    const hh = String(new Date(at).getUTCHours()).padStart(2, '0');
    const mm = String(new Date(at).getUTCMinutes()).padStart(2, '0');
    toRender.push(`From Alice, today at ${hh}:${mm}.`);
  }
  for (let i = 0; i < toRender.length; i += 8)
    await Promise.all(toRender.slice(i, i + 8).map((text) => audio.prerender(text)));
  const setupSeconds = (performance.now() - setupStart) / 1000;

  // ---- instrument the simulator: key sent -> next play request on that channel -----------
  const lastKey = new Map<string, { at: number; digit: string }>();
  const afterPin: number[] = [];
  const afterMenuKey: number[] = [];
  const sw = sim.softswitch as unknown as {
    dtmf: (ch: { id: string }, digit: string, ms: number) => void;
    play: (channelId: string, ...rest: unknown[]) => unknown;
  };
  const dtmf = sw.dtmf.bind(sw);
  const play = sw.play.bind(sw);
  sw.dtmf = (ch, digit, ms) => {
    lastKey.set(ch.id, { at: performance.now(), digit });
    dtmf(ch, digit, ms);
  };
  sw.play = (channelId, ...rest) => {
    const key = lastKey.get(channelId);
    if (key) {
      (key.digit === '#' ? afterPin : afterMenuKey).push(performance.now() - key.at);
      lastKey.delete(channelId);
    }
    return play(channelId, ...rest);
  };

  // ---- and inside this process: the adapter delivers the key -> the IVR asks to play --------
  const ownAfterPin: number[] = [];
  const ownAfterKey: number[] = [];
  platform.callControl.onCall((call) => {
    let key: { at: number; digit: string } | null = null;
    call.onDtmf((digit) => {
      key = { at: performance.now(), digit };
    });
    const playOn = call.play.bind(call);
    call.play = (media, options) => {
      if (key !== null) (key.digit === '#' ? ownAfterPin : ownAfterKey).push(performance.now() - key.at);
      key = null;
      return playOn(media, options);
    };
  });

  // ---- the calls ----------------------------------------------------------------------------
  const text = (media: string) => (media.startsWith('sound:') ? (audio.textFor(media.slice(6)) ?? '') : '');
  const heard = (prefix: string) => (p: { media: string }) => text(p.media).startsWith(prefix);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const start = performance.now();
  let completed = 0;
  const failures = new Map<string, number>();
  const one = async (i: number) => {
    await new Promise((r) => setTimeout(r, (RAMP_MS * i) / CALLS));
    const left = () => Math.max(1000, DEADLINE_MS - (performance.now() - start));
    const c = sim.placeCall({ from: number(i), to: '100' });
    try {
      await c.waitForPlayback(heard('Welcome back'), left());
      await c.pressKeys('2468#', { gapMs: 100 });
      await c.waitForPlayback(heard(`You have ${MESSAGES} new messages`), left());
      for (let m = 0; m < MESSAGES; m++) {
        await c.waitForPlayback(heard('Press 1 to hear it again'), left());
        await c.pressKeys('6', { gapMs: 50 });
      }
      await c.waitForPlayback(heard('No more new messages'), left());
      completed++;
    } catch (e) {
      const inIvr = platform.services.ivr.contexts.find((x) => x.call.id === c.channelId);
      const why = `${String((e as Error).message).slice(0, 28)} (call ${c.isUp ? 'up' : 'ended'}, IVR ${inIvr ? `in ${inIvr.state}` : 'has no such call'}, ${c.playbacks.length} playbacks)`;
      failures.set(why, (failures.get(why) ?? 0) + 1);
    } finally {
      if (c.isUp) await c.hangup();
    }
  };
  await Promise.all(Array.from({ length: CALLS }, (_, i) => one(i)));
  const seconds = (performance.now() - start) / 1000;
  lag.disable();
  for (let i = 0; i < 500 && platform.services.ivr.activeCalls > 0; i++) await new Promise((r) => setTimeout(r, 10));

  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return (s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN).toFixed(1);
  };
  let unread = 0;
  for (const id of callers) unread += (await presence.unread(id)).length;
  console.log(
    `IVR: ${CALLS} concurrent callers through the simulator (x${SPEED} real time), ${MESSAGES} messages each`,
  );
  console.log(`  setup (users, messages, speech pre-render): ${setupSeconds.toFixed(1)} s`);
  console.log(`  calls completed:       ${completed} of ${CALLS} in ${seconds.toFixed(1)} s`);
  for (const [why, n] of failures) console.log(`  failed: ${n} x ${why}`);
  console.log(`  messages left unread:  ${unread} (expected 0)`);
  console.log(
    `  PIN '#' -> next playback request:  p50 ${pct(afterPin, 0.5)} ms  p99 ${pct(afterPin, 0.99)} ms  (n=${afterPin.length}, scrypt N=${config.accounts.kdfCost})`,
  );
  console.log(
    `  menu key -> next playback request: p50 ${pct(afterMenuKey, 0.5)} ms  p99 ${pct(afterMenuKey, 0.99)} ms  (n=${afterMenuKey.length})`,
  );
  console.log(
    `  the IVR's own part (key event in -> play() called): after '#' p50 ${pct(ownAfterPin, 0.5)} ms  p99 ${pct(ownAfterPin, 0.99)} ms; after a menu key p50 ${pct(ownAfterKey, 0.5)} ms  p99 ${pct(ownAfterKey, 0.99)} ms`,
  );
  console.log(
    `  event-loop lag:        p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms  p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms  max ${(lag.max / 1e6).toFixed(1)} ms`,
  );
  if (completed < CALLS) exitCode = 1;
} finally {
  await platform.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
