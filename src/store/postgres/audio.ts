/**
 * The audio file server's index (AudioStore) on PostgreSQL, for one node: a
 * row per audio, a row per file of a recording, and a row per file of speech
 * per node that holds it (audio_node_files).
 *
 * Several nodes write one audio row at once: a node that forgets speech locks
 * its row before it looks whether another node still holds a file of it, and
 * a node that records its file of the same words locks that row too (the
 * insert's no-op update), so a row is never deleted under another node's new
 * file rows (the delete's subquery would not see them in its snapshot).
 */
import type {
  AudioFileFormat,
  AudioIndexEntry,
  AudioRecord,
  AudioStore,
  NewAudio,
  NewAudioFile,
  SpeechSource,
} from '../../audio/ports.js';
import type { Executor, PgDb } from './db.js';

export class PgAudio implements AudioStore {
  constructor(
    private readonly db: PgDb,
    private readonly nodeId: string,
  ) {}

  loadIndex(): Promise<AudioIndexEntry[]> {
    return this.db
      .rows<AudioIndexEntry & { isUnclaimed: boolean }>(
        `SELECT a.id, a.kind, a.text, a.duration_ms AS "durationMs", a.last_used_at AS "lastUsedAt",
           COALESCE((SELECT SUM(bytes) FROM audio_files f WHERE f.audio_id = a.id), 0)::bigint AS bytes,
           FALSE AS "isUnclaimed"
         FROM audio a WHERE a.kind = 'recording'
         UNION ALL
         SELECT a.id, a.kind, a.text, a.duration_ms, MAX(n.last_used_at), SUM(n.bytes)::bigint, n.node_id = ''
         FROM audio a JOIN audio_node_files n ON n.audio_id = a.id
         -- '': speech indexed before the per-node index (migration 012), by no node in particular.
         WHERE n.node_id = $1 OR (n.node_id = '' AND NOT EXISTS
           (SELECT 1 FROM audio_node_files m WHERE m.audio_id = a.id AND m.node_id = $1))
         GROUP BY a.id, n.node_id`,
        [this.nodeId],
      )
      .then((rows) => rows.map(({ isUnclaimed, ...r }) => (isUnclaimed ? { ...r, isUnclaimed: true } : r)));
  }

  insertAudio(a: NewAudio, files: NewAudioFile[]): Promise<void> {
    return this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO audio (id, kind, engine, voice, rate_percent, text, spoken_text, prompt_id, duration_ms, is_silent,
           user_id, session_id, message_id, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         ON CONFLICT (id) DO UPDATE SET last_used_at = audio.last_used_at`,
        [
          a.id,
          a.kind,
          a.engine,
          a.voice,
          a.ratePercent,
          a.text,
          a.spokenText,
          a.promptId,
          a.durationMs,
          a.isSilent,
          a.userId,
          a.sessionId,
          a.messageId,
          a.now,
        ],
      );
      for (const f of files) await this.put(c, a.id, a.kind === 'recording', f, a.now);
    });
  }

  /** A recording's file, or this node's file of speech (`now`: its last use; null: as its other files'). */
  private async put(
    on: Executor,
    audioId: string,
    isRecording: boolean,
    f: NewAudioFile,
    now: number | null,
  ): Promise<void> {
    if (isRecording || f.format === 'original') {
      await on.query(
        `INSERT INTO audio_files (audio_id, format, bytes, original_ext, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (audio_id, format) DO UPDATE SET bytes = excluded.bytes, original_ext = excluded.original_ext,
           data = COALESCE(excluded.data, audio_files.data)`,
        [audioId, f.format, f.bytes, f.originalExt, f.data ?? null],
      );
      return;
    }
    await on.query(
      `INSERT INTO audio_node_files (node_id, audio_id, format, bytes, last_used_at) VALUES ($1, $2, $3, $4,
         COALESCE($5::bigint, (SELECT MAX(last_used_at) FROM audio_node_files WHERE node_id = $1 AND audio_id = $2),
           (SELECT last_used_at FROM audio WHERE id = $2)))
       ON CONFLICT (node_id, audio_id, format) DO UPDATE SET bytes = excluded.bytes`,
      [this.nodeId, audioId, f.format, f.bytes, now],
    );
  }

  async putFile(audioId: string, file: NewAudioFile): Promise<void> {
    const row = await this.db.row<{ kind: string }>('SELECT kind FROM audio WHERE id = $1', [audioId]);
    // An unknown id fails on the files' foreign key, like a recording's.
    await this.put(this.db.pool, audioId, row === null || row.kind === 'recording', file, null);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.pool.query(
      `WITH node AS (UPDATE audio_node_files SET last_used_at = $1 WHERE node_id = $3 AND audio_id = $2)
       UPDATE audio SET last_used_at = $1 WHERE id = $2 AND kind = 'recording'`,
      [now, id, this.nodeId],
    );
  }

  remove(id: string): Promise<void> {
    return this.db.tx(async (c) => {
      await c.query('DELETE FROM audio_node_files WHERE node_id = $1 AND audio_id = $2', [this.nodeId, id]);
      // Locked first, then looked at in a new statement (a new snapshot): a node that wrote its files meanwhile is seen.
      await c.query('SELECT 1 FROM audio WHERE id = $1 FOR UPDATE', [id]);
      await c.query(
        `DELETE FROM audio WHERE id = $1
           AND (kind = 'recording' OR NOT EXISTS (SELECT 1 FROM audio_node_files WHERE audio_id = $1))`,
        [id],
      );
    });
  }

  async claim(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.pool.query(
      `INSERT INTO audio_node_files (node_id, audio_id, format, bytes, last_used_at)
       SELECT $1, audio_id, format, bytes, last_used_at FROM audio_node_files WHERE node_id = '' AND audio_id = ANY($2)
       ON CONFLICT (node_id, audio_id, format) DO NOTHING`,
      [this.nodeId, ids],
    );
  }

  speechSource(id: string): Promise<SpeechSource | null> {
    return this.db.row<SpeechSource>(
      `SELECT id, kind, engine, voice, rate_percent AS "ratePercent", text, spoken_text AS "spokenText",
         prompt_id AS "promptId" FROM audio WHERE id = $1 AND kind <> 'recording'`,
      [id],
    );
  }

  async linkRecording(
    id: string,
    link: { messageId?: string | undefined; sessionId?: string | undefined },
  ): Promise<boolean> {
    return (
      (await this.db.count(
        `UPDATE audio SET message_id = COALESCE($2, message_id), session_id = COALESCE($3, session_id)
         WHERE id = $1 AND kind = 'recording'`,
        [id, link.messageId ?? null, link.sessionId ?? null],
      )) > 0
    );
  }

  describe(id: string): Promise<AudioRecord | null> {
    return this.db.row<AudioRecord>(
      `SELECT id, kind, text, duration_ms AS "durationMs", user_id AS "userId", session_id AS "sessionId",
         message_id AS "messageId", is_silent AS "isSilent" FROM audio WHERE id = $1`,
      [id],
    );
  }

  async fileData(audioId: string, format: AudioFileFormat): Promise<Buffer | null> {
    const row = await this.db.row<{ data: Buffer | null }>(
      'SELECT data FROM audio_files WHERE audio_id = $1 AND format = $2',
      [audioId, format],
    );
    return row?.data ?? null;
  }
}
