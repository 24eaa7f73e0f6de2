/**
 * The dev phone in a real browser (Debian's headless Chromium, a fake
 * microphone fed from a WAV): Bob calls the IVR from the page, hears the
 * welcome prompt and Alice's message as the page plays them, logs on with the
 * keyboard, records a reply from the microphone and sends it; Alice then has
 * a voice message of about the length he spoke.
 */
import t from 'tap';
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/ivr/demo.js';
import { parseWav } from '../../src/sim/wav.js';
import { ApiClient, WsClient } from '../support/presence.js';
import { browser, CHROMIUM, demoPlatform, Ear, hasChromium } from './support/dev-phone.js';

if (!hasChromium()) t.fail(`${CHROMIUM} is missing (make os-deps installs it)`);

t.test('Bob calls from the page, logs on, hears Alice, replies from the microphone', async (t) => {
  const { platform, url, phoneUrl } = await demoPlatform(t);
  const ctx = await browser(t);
  const page = await ctx.newPage();
  await page.goto(phoneUrl);
  await page.locator('#link[data-link="up"]').waitFor();
  t.equal(await page.title(), 'Dev phone · phone-im simulator');
  t.equal(await page.inputValue('#from'), DEMO_USERS.bob.callerId, 'Bob is offered first as the caller');

  const alice = await ApiClient.login(url, 'alice', DEMO_PASSWORD);
  const aliceWs = await WsClient.connect(url, alice.token);
  t.teardown(() => aliceWs.close());

  await page.click('#call');
  await page.locator('body[data-state="up"]').waitFor();
  const ear = new Ear(page, platform);
  const welcome = await ear.hears(/^Welcome back, Bob\. Please enter your PIN/);
  t.ok(welcome.heard, 'the browser played the welcome prompt');
  await page.keyboard.type('2468#');
  await ear.hears(/^You have 2 new messages\.$/);
  await ear.hears(/^From Alice/);
  const message = await ear.hears(/^Hi Bob, are you free for lunch\?$/);
  t.ok(message.heard, "the browser played Alice's message");
  await ear.hears(/^Press 1 to hear it again, 5 to reply/);
  await page.click('#keypad [data-key="5"]');
  await ear.hears(/^Record your reply after the tone/);
  await page.locator('#rec:not([hidden])').waitFor();
  await page.locator('#log li[data-kind="you"]', { hasText: 'Speaking from the microphone' }).waitFor();
  // Bob talks for about two seconds.
  await page.waitForTimeout(2000);
  await page.click('#keypad [data-key="#"]');
  const spokenMs = Number(await page.getAttribute('body', 'data-recorded-ms'));
  t.ok(spokenMs >= 1500, `the microphone ran (${spokenMs} ms)`);
  await ear.hears(/^Press 1 to send it/);
  await page.keyboard.press('1');
  await ear.hears(/^Your reply was sent\.$/);

  const frame = await aliceWs.next((f) => f.type === 'message' && (f.message as { kind: string }).kind === 'voice');
  const voice = frame.message as { audioUrl: string };
  const res = await fetch(voice.audioUrl);
  t.equal(res.status, 200, "Alice's voice message plays");
  const heardMs = parseWav(Buffer.from(await res.arrayBuffer()))?.durationMs ?? 0;
  t.ok(
    Math.abs(heardMs - spokenMs) < 800,
    `about as long as Bob spoke: ${heardMs} ms in the message, ${spokenMs} ms spoken`,
  );
  await page.click('#hangup');
  await page.locator('body[data-state="idle"]').waitFor();
});
