import t from 'tap';
import type { CommitBatch, CommitResult } from '../../../src/presence/ports.js';
import { decodeBatch, decodeResults, encodeBatch, encodeResults } from '../../../src/store/sqlite/commit-wire.js';

// What crosses to the writer thread is a structured clone: the test sends it through one, as the thread does.
const cross = <T>(value: T, transfer: ArrayBuffer[]): T => structuredClone(value, { transfer });

t.test('a batch reaches the writer thread as it was sent', async (t) => {
  const batch: CommitBatch = {
    entries: [
      {
        sessionId: 's1',
        fromUserId: 1,
        kind: 'text',
        text: 'hello',
        audioId: null,
        audioUrl: null,
        recipients: [2],
        createdAt: 1_700_000_000_123,
        clientMessageId: null,
        membershipVersion: 0,
      },
      {
        sessionId: 's2',
        fromUserId: 7,
        kind: 'voice',
        text: null,
        audioId: 'a-1',
        audioUrl: 'http://127.0.0.1/audio/a-1',
        recipients: [3, 4, 5],
        createdAt: 1_700_000_000_124,
        clientMessageId: 'c-9',
        membershipVersion: null,
      },
      {
        sessionId: 's1',
        fromUserId: 2,
        kind: 'text',
        text: 'ünïcödé ✓',
        audioId: null,
        audioUrl: null,
        recipients: [],
        createdAt: 1_700_000_000_125,
        clientMessageId: 'only-an-id',
        membershipVersion: 12,
      },
    ],
    delivered: [
      { userId: 2, messageId: 41 },
      { userId: 3, messageId: 9_007_199_254_740 },
    ],
    cursors: [
      ['obj-a', 41],
      ['obj-b', 40],
    ],
    now: 1_700_000_000_200,
  };
  const { wire, transfer } = encodeBatch(batch);
  const got = decodeBatch(cross(wire, transfer));
  t.same(got, batch, 'entries, deliveries, cursors and the time come back the same');
  // A membership version of 0 is a version, not "not checked".
  t.equal(got.entries[0]?.membershipVersion, 0);
  t.equal(got.entries[1]?.membershipVersion, null);
});

t.test('an empty batch (deliveries only) and an absent client message id', async (t) => {
  const batch: CommitBatch = {
    entries: [
      {
        sessionId: 's',
        fromUserId: 1,
        kind: 'text',
        text: 'x',
        audioId: null,
        audioUrl: null,
        recipients: [2],
        createdAt: 5,
      },
    ],
    delivered: [],
    cursors: [],
    now: 6,
  };
  const { wire, transfer } = encodeBatch(batch);
  const e = decodeBatch(cross(wire, transfer)).entries[0];
  t.equal(e?.clientMessageId, null, 'absent is no client message id');
  t.equal(e?.membershipVersion, null, 'absent is not checked');
  const none = encodeBatch({ entries: [], delivered: [{ userId: 1, messageId: 2 }], cursors: [], now: 1 });
  t.same(decodeBatch(cross(none.wire, none.transfer)), {
    entries: [],
    delivered: [{ userId: 1, messageId: 2 }],
    cursors: [],
    now: 1,
  });
});

t.test('results come back in order, whatever each is', async (t) => {
  const existing = {
    id: '17',
    sessionId: 's1',
    fromUserId: 1,
    kind: 'text' as const,
    text: 'first',
    audioId: null,
    audioUrl: null,
    createdAt: 3,
  };
  const results: CommitResult[] = [
    { ok: true, id: 18 },
    { ok: true, id: 17, existing },
    { ok: false, reason: "the session's membership changed", isStale: true },
    { ok: false, reason: 'FOREIGN KEY constraint failed' },
    { ok: true, id: 19 },
  ];
  const { wire, transfer } = encodeResults(results);
  t.same(decodeResults(cross(wire, transfer)), results);
  t.same(decodeResults(cross(encodeResults([]).wire, [])), []);
});
