/**
 * The dev phone tests' scaffolding: the platform as `make run` starts it
 * (demo community, built-in simulator), Debian's headless Chromium with a
 * fake microphone fed from a WAV, and an ear that reads what the page
 * reports it played as the text the audio server rendered.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Test } from 'tap';
import type { Platform } from '../../../src/app.js';
import { ROOT } from '../../support/env.js';
import { startPlatform } from '../../support/presence.js';

export const CHROMIUM = '/usr/bin/chromium';
export const VOICE = join(ROOT, 'test/fixtures/ivr/reply.wav');
/** Prompts play 16 times faster than real time, in the simulator and in the page. */
export const SPEED = 16;

export const hasChromium = () => existsSync(CHROMIUM);

export async function demoPlatform(t: Test): Promise<{ platform: Platform; url: string; phoneUrl: string }> {
  // Removed only once the platform has stopped: a call still ending must not race the removal.
  const dir = mkdtempSync(join(tmpdir(), 'dev-phone-'));
  const { platform, url } = await startPlatform(t, {
    dir,
    stopOnTeardown: false,
    overrides: {
      demo: true,
      sim: { speedFactor: SPEED },
      ivr: { amdListenSeconds: 0 },
      notify: { collectDelaySeconds: 0 },
    },
  });
  t.teardown(async () => {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const control = platform.callControl;
  for (let i = 0; i < 1500 && !control?.isConnected; i++) await new Promise((r) => setTimeout(r, 10));
  const phoneUrl = platform.sim?.devPhoneUrl;
  if (!phoneUrl || !control?.isConnected) throw new Error('the platform did not start its simulator');
  return { platform, url, phoneUrl };
}

export async function browser(t: Test): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(t.testdir({}), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${VOICE}`,
    ],
  });
  t.teardown(() => ctx.close());
  ctx.setDefaultTimeout(15_000);
  return ctx;
}

/** Reads what the page reports it played, as the text the audio server rendered. */
export class Ear {
  private seen = 0;
  constructor(
    private readonly page: Page,
    private readonly platform: Platform,
  ) {}

  /** Waits until the page has played (heard out or cut by a key) a prompt whose text matches. */
  async hears(pattern: RegExp, timeoutMs = 20_000): Promise<{ text: string; heard: boolean }> {
    const deadline = Date.now() + timeoutMs;
    const said: string[] = [];
    while (Date.now() < deadline) {
      const played = await this.page.$$eval('#log li[data-kind="played"]', (lis) =>
        lis.map((li) => ({ media: li.getAttribute('data-media') ?? '', heard: li.getAttribute('data-heard') })),
      );
      while (this.seen < played.length) {
        const p = played[this.seen++] as { media: string; heard: string | null };
        const text = this.platform.services.audio.textFor(p.media.replace(/^sound:/, '')) ?? p.media;
        said.push(text);
        if (pattern.test(text)) return { text, heard: p.heard === 'true' };
      }
      await this.page.waitForTimeout(50);
    }
    throw new Error(`the page did not play ${pattern}; it played: ${said.join(' | ')}`);
  }
}
