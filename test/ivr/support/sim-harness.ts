/**
 * The IVR from the outside: the platform as `make run` starts it with no
 * Asterisk configured - the built-in softswitch simulator speaking real ARI,
 * the real ari-client adapter, the real audio and presence servers - and
 * virtual callers whose transcript is the text behind each playback (the
 * audio server's textFor).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Clock } from '../../../src/core/clock.js';
import type { VirtualCaller } from '../../../src/sim/index.js';
import { befriend, startPlatform } from '../../support/presence.js';

export interface TextSource {
  textFor(url: string): string | null | undefined;
}

/** Fast, but with every timeout a caller would notice still in force (the simulator runs 20x real time). */
export const FAST_IVR = { firstDigitTimeoutMs: 1500, interDigitTimeoutMs: 1000, amdListenSeconds: 0 };

export async function ivrOnSimulator(
  t: Test,
  opts: {
    ivr?: Record<string, unknown>;
    speedFactor?: number;
    clock?: Clock;
    telephony?: Record<string, unknown>;
    notify?: Record<string, unknown>;
  } = {},
) {
  // Our own data directory, removed only after the platform has stopped: calls still
  // hanging up and speech still being written at the end of a test must not race its removal.
  const dir = mkdtempSync(join(tmpdir(), 'ivr-test-'));
  const { platform, url } = await startPlatform(t, {
    dir,
    stopOnTeardown: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    overrides: {
      ivr: { ...FAST_IVR, ...opts.ivr },
      sim: { speedFactor: opts.speedFactor ?? 20 },
      ...(opts.telephony ? { telephony: opts.telephony } : {}),
      ...(opts.notify ? { notify: opts.notify } : {}),
    },
  });
  t.teardown(async () => {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { accounts, audio, ivr } = platform.services;
  const { sim, callControl: control } = platform;
  if (!sim || !control) throw new Error('the platform did not start its simulator');
  for (let i = 0; i < 1500 && !control.isConnected; i++) await new Promise((r) => setTimeout(r, 10));
  if (!control.isConnected) throw new Error('the adapter did not connect to the simulator');

  const bob = await accounts.createUser({
    username: 'bob',
    displayName: 'Bob',
    pin: '2468',
    password: 'correct horse',
    callerIds: ['+15550101'],
    timeZone: 'America/New_York',
  });
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice', password: 'correct horse' });
  await befriend(platform, [alice.id, bob.id]);
  return { platform, url, sim, control, ivr, audio, bob, alice };
}

/** Reads a virtual caller's playbacks as text, in order. */
export class Transcript {
  private cursor = 0;

  constructor(
    readonly caller: VirtualCaller,
    private readonly audio: TextSource,
  ) {}

  textOf(media: string): string {
    if (media.startsWith('sound:http')) return this.audio.textFor(media.slice('sound:'.length)) ?? media;
    return media;
  }

  get heard(): string[] {
    return this.caller.playbacks.map((p) => this.textOf(p.media));
  }

  /** Waits for the next playback (after those already matched) whose text matches; returns its text. */
  async hears(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = this.caller.playbacks;
      while (this.cursor < list.length) {
        const text = this.textOf((list[this.cursor++] as { media: string }).media);
        if (pattern.test(text)) return text;
      }
      if (Date.now() > deadline)
        throw new Error(`did not hear ${pattern}; heard:\n  ${this.heard.slice(-12).join('\n  ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
