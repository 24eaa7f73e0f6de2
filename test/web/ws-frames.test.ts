import t from 'tap';
import type { StoredMessage } from '../../src/presence/types.js';
import { frameText } from '../../src/web/ws-gateway.js';

const message: StoredMessage = {
  id: '42',
  sessionId: 'b6f0f9a4-1c1e-4f59-9d4c-0a1f2a3b4c5d',
  fromUserId: 3,
  kind: 'voice',
  text: 'Bob says "hi"\nand ✓ \u2028 done',
  audioId: 'a1',
  audioUrl: 'http://127.0.0.1:8080/audio/a1?sig=x&exp=1',
  createdAt: 1_700_000_000_000,
};

t.test('every frame reads as JSON.stringify writes it', async (t) => {
  const frames: unknown[] = [
    { type: 'message', message },
    { type: 'ack', ref: 'r-1', message, isNew: true },
    { type: 'ack', ref: undefined, message, isNew: false },
    { type: 'ack', ref: 7, message },
    { type: 'ack', ref: 1, read: ['1', '2'] },
    { type: 'hello', userId: 1, username: 'alice', sessionObjectId: 'o' },
    { type: 'error', ref: 2, error: { code: 'WEB_BAD_REQUEST', message: 'a frame must be a JSON object' } },
    { type: 'notice', message: 'a plain text message field' },
    { type: 'message', message: null },
    { type: 'pong' },
  ];
  for (const f of frames) {
    const text = frameText(f);
    t.equal(text, JSON.stringify(f));
    t.same(JSON.parse(text), JSON.parse(JSON.stringify(f)));
  }
});

t.test('a message reads the same in every frame that carries it, and a new object is written anew', async (t) => {
  const first = frameText({ type: 'message', message });
  t.equal(frameText({ type: 'message', message }), first, 'the second recipient gets the same text');
  const ack = JSON.parse(frameText({ type: 'ack', ref: 'r', message, isNew: true })) as { message: StoredMessage };
  t.same(ack.message, message, "the sender's ack carries the same message");
  // A message signed again (a fresh audio URL) is another object: its frame has the new URL.
  const fresh = { ...message, audioUrl: 'http://127.0.0.1:8080/audio/a1?sig=y&exp=2' };
  t.match(frameText({ type: 'message', message: fresh }), /sig=y&exp=2/);
});
