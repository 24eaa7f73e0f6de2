/**
 * The dev phone answers a reverse log-on call: the number the page claimed
 * rings the page (headless Chromium), the page answers, hears "Alice wants to
 * chat" as it plays and accepts with 1; Bob is then in the chat, on the phone.
 */
import t from 'tap';
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/ivr/demo.js';
import { ApiClient } from '../support/presence.js';
import { browser, CHROMIUM, demoPlatform, Ear, hasChromium } from './support/dev-phone.js';

if (!hasChromium()) t.fail(`${CHROMIUM} is missing (make os-deps installs it)`);

t.test('a reverse log-on call rings the page that claimed the number; it answers and accepts', async (t) => {
  const { platform, url, phoneUrl } = await demoPlatform(t);
  const { accounts, presence } = platform.services;
  await accounts.addDevice('bob', { kind: 'phone', address: DEMO_USERS.bob.callerId });
  const ctx = await browser(t);
  const page = await ctx.newPage();
  await page.goto(phoneUrl);
  await page.fill('#claim', DEMO_USERS.bob.callerId);
  await page.click('#claim-set');
  await page.locator(`body[data-claim="${DEMO_USERS.bob.callerId}"]`).waitFor();

  // Alice writes to Bob, who has no link: the notifier calls him back.
  const alice = await ApiClient.login(url, 'alice', DEMO_PASSWORD);
  const bob = await accounts.findUser('bob');
  const session = (await presence.sessionsOf(bob?.id ?? 0))[0];
  await alice.call('POST', `/api/v1/sessions/${session?.id}/messages`, { text: 'Are you there?' });
  await page.locator('#incoming:not([hidden])').waitFor({ timeout: 20_000 });
  t.match(await page.textContent('#incoming'), /Incoming call/, 'the page rings');
  await page.click('#answer');
  const ear = new Ear(page, platform);
  const hello = await ear.hears(/^Hello\. Alice wants to chat with you\.$/);
  t.ok(hello.heard, 'the browser played "Alice wants to chat"');
  await ear.hears(/^Press 1 to accept/);
  await page.click('#keypad [data-key="1"]');
  await ear.hears(/^You are in a chat with Alice\.$/);
  t.equal((await presence.presenceOf(bob?.id ?? 0)).state, 'on-the-phone', 'Bob is on the phone, in the chat');
  await page.click('#hangup');
});
