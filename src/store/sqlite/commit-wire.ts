/**
 * The group commit's batch and its results as they cross to the writer
 * thread: columns of strings and typed arrays, not an object per message.
 * A structured clone of a batch of small objects writes every property name
 * and builds every object again on the other side; at thousands of messages
 * a second that cost the main thread more than all its other work on a
 * commit, and the writer thread as much again. The typed arrays are
 * transferred, not copied.
 */
import type { CommitBatch, CommitEntry, CommitResult } from '../../presence/ports.js';

/** Numbers per entry in WireBatch.nums. */
const NUMS = 5;

export interface WireBatch {
  sessionIds: string[];
  texts: (string | null)[];
  /** Per entry: fromUserId, createdAt, membershipVersion (NaN: not checked), kind (0 text, 1 voice), recipients. */
  nums: Float64Array;
  /** Every entry's recipients, one after the other. */
  recipients: Float64Array;
  /** The fields most messages leave empty, for the entries that have one: [index, audioId, audioUrl, clientMessageId]. */
  extras: [number, string | null, string | null, string | null][];
  /** Pairs of userId, messageId. */
  delivered: Float64Array;
  cursorIds: string[];
  cursorValues: Float64Array;
  now: number;
}

/** The batch as columns, and the buffers to transfer with it. */
export function encodeBatch(batch: CommitBatch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const { entries, delivered, cursors } = batch;
  const n = entries.length;
  const sessionIds = new Array<string>(n);
  const texts = new Array<string | null>(n);
  const nums = new Float64Array(n * NUMS);
  let recipientCount = 0;
  for (const e of entries) recipientCount += e.recipients.length;
  const recipients = new Float64Array(recipientCount);
  const extras: WireBatch['extras'] = [];
  let r = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as CommitEntry;
    sessionIds[i] = e.sessionId;
    texts[i] = e.text;
    const o = i * NUMS;
    nums[o] = e.fromUserId;
    nums[o + 1] = e.createdAt;
    nums[o + 2] = e.membershipVersion ?? Number.NaN;
    nums[o + 3] = e.kind === 'voice' ? 1 : 0;
    nums[o + 4] = e.recipients.length;
    for (const u of e.recipients) recipients[r++] = u;
    if (e.audioId !== null || e.audioUrl !== null || (e.clientMessageId ?? null) !== null)
      extras.push([i, e.audioId, e.audioUrl, e.clientMessageId ?? null]);
  }
  const d = new Float64Array(delivered.length * 2);
  for (let i = 0; i < delivered.length; i++) {
    const u = delivered[i] as { userId: number; messageId: number };
    d[2 * i] = u.userId;
    d[2 * i + 1] = u.messageId;
  }
  const cursorIds = new Array<string>(cursors.length);
  const cursorValues = new Float64Array(cursors.length);
  for (let i = 0; i < cursors.length; i++) {
    const [id, c] = cursors[i] as [string, number];
    cursorIds[i] = id;
    cursorValues[i] = c;
  }
  const wire = { sessionIds, texts, nums, recipients, extras, delivered: d, cursorIds, cursorValues, now: batch.now };
  return { wire, transfer: [nums.buffer, recipients.buffer, d.buffer, cursorValues.buffer] as ArrayBuffer[] };
}

export function decodeBatch(w: WireBatch): CommitBatch {
  const n = w.sessionIds.length;
  const entries = new Array<CommitEntry>(n);
  let r = 0;
  for (let i = 0; i < n; i++) {
    const o = i * NUMS;
    const count = w.nums[o + 4] as number;
    const recipients = new Array<number>(count);
    for (let k = 0; k < count; k++) recipients[k] = w.recipients[r++] as number;
    const version = w.nums[o + 2] as number;
    entries[i] = {
      sessionId: w.sessionIds[i] as string,
      fromUserId: w.nums[o] as number,
      kind: w.nums[o + 3] === 1 ? 'voice' : 'text',
      text: w.texts[i] as string | null,
      audioId: null,
      audioUrl: null,
      recipients,
      createdAt: w.nums[o + 1] as number,
      clientMessageId: null,
      membershipVersion: Number.isNaN(version) ? null : version,
    };
  }
  for (const [i, audioId, audioUrl, clientMessageId] of w.extras) {
    const e = entries[i] as CommitEntry;
    e.audioId = audioId;
    e.audioUrl = audioUrl;
    e.clientMessageId = clientMessageId;
  }
  const delivered = new Array<{ userId: number; messageId: number }>(w.delivered.length / 2);
  for (let i = 0; i < delivered.length; i++)
    delivered[i] = { userId: w.delivered[2 * i] as number, messageId: w.delivered[2 * i + 1] as number };
  const cursors = w.cursorIds.map((id, i): [string, number] => [id, w.cursorValues[i] as number]);
  return { entries, delivered, cursors, now: w.now };
}

/** Results as ids (NaN where the result is anything but a plain new id) and the others by index. */
export interface WireResults {
  ids: Float64Array;
  others: [number, CommitResult][];
}

export function encodeResults(results: CommitResult[]): { wire: WireResults; transfer: ArrayBuffer[] } {
  const ids = new Float64Array(results.length);
  const others: [number, CommitResult][] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as CommitResult;
    if (r.ok && r.existing === undefined) ids[i] = r.id;
    else {
      ids[i] = Number.NaN;
      others.push([i, r]);
    }
  }
  return { wire: { ids, others }, transfer: [ids.buffer as ArrayBuffer] };
}

export function decodeResults(w: WireResults): CommitResult[] {
  const out = new Array<CommitResult>(w.ids.length);
  for (let i = 0; i < w.ids.length; i++) out[i] = { ok: true, id: w.ids[i] as number };
  for (const [i, r] of w.others) out[i] = r;
  return out;
}
