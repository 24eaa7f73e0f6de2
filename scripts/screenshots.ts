/**
 * The README's screenshots, made by hand (`make screenshots`): a platform on
 * a temporary data directory with a few users, a chat with a voice message,
 * a call in progress and an alert whose call is ringing; Debian's Chromium
 * photographs the chat at a phone's width, the buddy list, and the
 * operator's view. Writes docs/screenshot-*.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { Platform } from '../src/app.js';
import { encodeWav } from '../src/audio/wav.js';
import { loadConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/logger.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = resolve(process.argv[2] ?? 'docs');
const PASSWORD = 'screenshots only';

/** Three seconds of a voice-like warble, for the voice message's player. */
function warble(): Buffer {
  const rate = 8000;
  const samples = new Int16Array(rate * 3);
  for (let i = 0; i < samples.length; i++) {
    const t = i / rate;
    samples[i] = Math.round(6000 * Math.sin(2 * Math.PI * (180 + 40 * Math.sin(2 * Math.PI * 3 * t)) * t));
  }
  return encodeWav({ sampleRate: rate, samples });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'screenshots-'));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      log: { level: 'silent' },
      http: { port: 0 },
      accounts: { kdfCost: 1024 },
      presence: { pageRefreshSeconds: 300 },
      notify: { collectDelaySeconds: 0, ringSeconds: 120 },
    },
  });
  const platform = new Platform({ config, log: silentLogger() });
  const url = await platform.start();
  try {
    const { accounts, presence, audio, roles } = platform.services;
    const user = (username: string, displayName: string) =>
      accounts.createUser({ username, displayName, password: PASSWORD, timeZone: 'Europe/London' });
    const alice = await user('alice', 'Alice Jones');
    const bob = await user('bob', 'Bob Smith');
    const carol = await user('carol', 'Carol Díaz');
    const dave = await user('dave', 'Dave Okafor');
    await roles.setAdmin('alice', true);
    for (const other of [bob, carol, dave]) {
      await presence.requestContact(alice.id, other.id);
      await presence.approveContact(other.id, alice.id);
    }
    await presence.openLink(bob.id, { kind: 'phone', deliver: () => {} });
    await presence.openLink(carol.id, { kind: 'websocket', deliver: () => {} });
    await presence.setPresence(carol.id, 'away', 'at lunch');

    const s = await presence.createSession(alice.id, [bob.id]);
    await presence.accept(s.id, bob.id);
    await presence.postMessage({ sessionId: s.id, fromUserId: bob.id, text: 'Are we still on for the review?' });
    await presence.postMessage({ sessionId: s.id, fromUserId: alice.id, text: 'Yes, 3 pm in the small room.' });
    const rec = await audio.storeRecording({ data: warble(), userId: bob.id, sessionId: s.id });
    await presence.postMessage({
      sessionId: s.id,
      fromUserId: bob.id,
      voice: { audioId: rec.id, url: rec.wavUrl, text: 'I will bring the printouts.' },
    });
    const s2 = await presence.createSession(carol.id, [alice.id]);
    await presence.accept(s2.id, alice.id);
    await presence.postMessage({ sessionId: s2.id, fromUserId: carol.id, text: 'Back at two.' });

    // The operator's view: Dave's phone rings and rings; someone calls in.
    await accounts.addDevice('dave', { kind: 'phone', address: '+15550100123' });
    await accounts.addDevice('dave', { kind: 'email', address: 'dave@example.com' });
    platform.sim?.setCallee('+15550100123', { behavior: 'no-answer' });
    const s3 = await presence.createSession(alice.id, [dave.id]);
    await presence.postMessage({ sessionId: s3.id, fromUserId: alice.id, text: 'Can you cover the 4 pm call?' });
    platform.sim?.placeCall({ from: '+15550100777', to: '100' });

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    try {
      const shoot = async (width: number, height: number, path: string, file: string, fullPage = false) => {
        const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: 'light' });
        const page = await ctx.newPage();
        await page.goto(`${url}/login`);
        await page.fill('input[name=username]', 'alice');
        await page.fill('input[name=password]', PASSWORD);
        await page.click('button[type=submit]');
        await page.goto(`${url}${path}`);
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: join(OUT, file), fullPage });
        await ctx.close();
        process.stdout.write(`wrote ${join(OUT, file)}\n`);
      };
      await shoot(360, 740, `/chat/${s.id}`, 'screenshot-chat.png');
      await shoot(360, 740, '/buddies', 'screenshot-buddies.png', true);
      await shoot(1280, 800, '/admin', 'screenshot-admin.png', true);
    } finally {
      await browser.close();
    }
  } finally {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
