/**
 * One group commit of the message cache: a batch of messages and their
 * delivery rows in one transaction; when the batch fails, each message alone,
 * so one bad message cannot sink the others. Shared by the in-thread writer
 * and the writer thread. An entry checked against a membership version that
 * is no longer its session's is not written (stale): the version is read in
 * the transaction that writes, which takes the write lock first (IMMEDIATE),
 * so no membership change can come between the check and the write. A
 * session's version is read once per transaction (a batch holds many
 * messages of one session; the batch itself changes no membership).
 */
import type { Statement } from 'better-sqlite3';
import type { CommitBatch, CommitEntry, CommitResult } from '../../presence/ports.js';
import type { Db } from './db.js';
import { MESSAGE_COLS, type MessageRow, toMessage } from './presence.js';

export class BatchCommitter {
  private readonly insertMessage: Statement;
  private readonly insertDelivery: Statement;
  private readonly byClientId: Statement;
  private readonly markDelivered: Statement;
  private readonly moveCursor: Statement;
  private readonly memberVersion: Statement;
  /** Membership versions read in the transaction under way (cleared when it begins). */
  private readonly versions = new Map<string, number | undefined>();

  constructor(
    private readonly db: Db,
    private readonly nodeId: string,
  ) {
    db.pragma('synchronous = FULL');
    this.insertMessage = db.prepare(
      `INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at, client_message_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byClientId = db.prepare(
      `SELECT ${MESSAGE_COLS} FROM messages m WHERE m.from_user_id = ? AND m.session_id = ? AND m.client_message_id = ?`,
    );
    this.insertDelivery = db.prepare(
      "INSERT INTO deliveries (message_id, recipient_id, state, updated_at) VALUES (?, ?, 'pending', ?)",
    );
    this.markDelivered = db.prepare(
      "UPDATE deliveries SET state = 'delivered', updated_at = ? WHERE recipient_id = ? AND message_id = ? AND state IN ('pending', 'notified')",
    );
    this.moveCursor = db.prepare('UPDATE session_objects SET cursor = MAX(cursor, ?) WHERE id = ?');
    this.memberVersion = db.prepare('SELECT member_version AS v FROM im_sessions WHERE id = ?');
  }

  /**
   * Stores the entries, and records deliveries and cursors (those ride along:
   * they are not what anyone waits for, and must not take a write lock of
   * their own on the main thread).
   */
  commit({ entries, delivered, cursors, now }: CommitBatch): CommitResult[] {
    const after = () => {
      for (const d of delivered) this.markDelivered.run(now, d.userId, d.messageId);
      for (const [id, cursor] of cursors) this.moveCursor.run(cursor, id);
    };
    try {
      return this.db
        .transaction(() => {
          this.versions.clear();
          const out = new Array<CommitResult>(entries.length);
          for (let i = 0; i < entries.length; i++) out[i] = this.write(entries[i] as CommitEntry);
          after();
          return out;
        })
        .immediate();
    } catch {
      try {
        this.db.transaction(after)();
      } catch {
        // Delivery states only: the messages stay pending and are given again (at least once).
      }
      return entries.map((e) => {
        try {
          return this.db
            .transaction(() => {
              this.versions.clear();
              return this.write(e);
            })
            .immediate();
        } catch (err) {
          return { ok: false as const, reason: (err as Error).message };
        }
      });
    }
  }

  /** The session's membership version in this transaction (undefined: no such session). */
  private versionOf(sessionId: string): number | undefined {
    if (this.versions.has(sessionId)) return this.versions.get(sessionId);
    const v = (this.memberVersion.get(sessionId) as { v: number } | undefined)?.v;
    this.versions.set(sessionId, v);
    return v;
  }

  /** Inside the batch's transaction, so an id taken earlier in the same batch is found too. */
  private write(e: CommitEntry): CommitResult {
    if (
      e.membershipVersion !== undefined &&
      e.membershipVersion !== null &&
      this.versionOf(e.sessionId) !== e.membershipVersion
    )
      return { ok: false, reason: "the session's membership changed", isStale: true };
    if (e.clientMessageId) {
      const r = this.byClientId.get(e.fromUserId, e.sessionId, e.clientMessageId) as MessageRow | undefined;
      if (r) return { ok: true, id: r.id, existing: toMessage(r) };
    }
    const info = this.insertMessage.run(
      e.sessionId,
      e.fromUserId,
      e.kind,
      e.text,
      e.audioId,
      e.audioUrl,
      this.nodeId,
      e.createdAt,
      e.clientMessageId ?? null,
    );
    const id = Number(info.lastInsertRowid);
    for (const r of e.recipients) this.insertDelivery.run(id, r, e.createdAt);
    return { ok: true, id };
  }

  close(): void {
    this.db.close();
  }
}
