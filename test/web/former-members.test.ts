/** A member who left or declined reads the chat up to that moment, nothing after: API, HTML and WML alike. */
import t from 'tap';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform } from '../support/presence.js';
import { checkWml } from '../support/wml-check.js';

t.test('after leaving or declining, neither the API nor the chat page shows later messages', async (t) => {
  const { platform, url } = await startPlatform(t);
  const { alice, bob, carol } = await makeUsers(platform, ['alice', 'bob', 'carol']);
  await befriend(platform, [alice, bob, carol]);
  const a = await ApiClient.login(url, 'alice');
  const b = await ApiClient.login(url, 'bob');
  const c = await ApiClient.login(url, 'carol');
  const id = ((await a.call('POST', '/api/v1/sessions', { invitees: ['bob', 'carol'] })).body as { id: string }).id;
  t.equal((await b.call('POST', `/api/v1/sessions/${id}/accept`)).status, 200);
  await a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'before anyone left' });
  t.equal((await b.call('POST', `/api/v1/sessions/${id}/leave`)).status, 200, 'Bob leaves');
  t.equal((await c.call('POST', `/api/v1/sessions/${id}/decline`)).status, 200, 'Carol declines');
  await a.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'secret plans after they went' });
  // A voice message after they went: its link must not show either.
  await platform.services.presence.postMessage({
    sessionId: id,
    fromUserId: alice,
    voice: { audioId: 'a1', url: 'http://127.0.0.1/audio/a1.mp3?sig=later', text: 'spoken later' },
  });

  for (const [who, client] of [
    ['Bob (left)', b],
    ['Carol (declined)', c],
  ] as const) {
    const all = (await client.call('GET', `/api/v1/sessions/${id}/messages`)).body as { messages: { text: string }[] };
    t.same(
      all.messages.map((m) => m.text),
      ['before anyone left'],
      `${who}: the history stops where they went`,
    );
    const after = (await client.call('GET', `/api/v1/sessions/${id}/messages?after=0&limit=100`)).body as {
      messages: unknown[];
    };
    t.equal(after.messages.length, 1, `${who}: paging from the start stops there too`);
  }
  const aliceSees = (await a.call('GET', `/api/v1/sessions/${id}/messages`)).body as { messages: unknown[] };
  t.equal(aliceSees.messages.length, 3, 'a member who stayed reads everything');

  for (const accept of ['text/html', 'text/vnd.wap.wml']) {
    const page = new HtmlClient(url, accept);
    await page.login('bob');
    const chat = await page.get(page.url.replace(/\/buddies/, `/chat/${id}`));
    t.equal(page.status, 200, `${accept}: the chat page opens`);
    t.match(chat, /before anyone left/, `${accept}: what came before leaving shows`);
    t.notMatch(chat, /secret plans|spoken later|sig=later/, `${accept}: nothing posted after leaving`);
    if (accept !== 'text/html') t.same(checkWml(chat), []);
  }

  // Invited again, Bob may read the whole conversation.
  t.equal((await a.call('POST', `/api/v1/sessions/${id}/invite`, { username: 'bob' })).status, 200);
  const again = (await b.call('GET', `/api/v1/sessions/${id}/messages`)).body as { messages: unknown[] };
  t.equal(again.messages.length, 3, 'invited again: all of it');
});
