/** The audio file server's index (AudioStore) on PostgreSQL: a row per audio and a row per file of it. */
import type {
  AudioFileFormat,
  AudioIndexEntry,
  AudioRecord,
  AudioStore,
  NewAudio,
  NewAudioFile,
} from '../../audio/ports.js';
import type { Executor, PgDb } from './db.js';

export class PgAudio implements AudioStore {
  constructor(private readonly db: PgDb) {}

  loadIndex(): Promise<AudioIndexEntry[]> {
    return this.db.rows<AudioIndexEntry>(
      `SELECT a.id, a.kind, a.text, a.duration_ms AS "durationMs", a.last_used_at AS "lastUsedAt",
         COALESCE((SELECT SUM(bytes) FROM audio_files f WHERE f.audio_id = a.id), 0)::bigint AS bytes
       FROM audio a`,
    );
  }

  insertAudio(a: NewAudio, files: NewAudioFile[]): Promise<void> {
    return this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO audio (id, kind, engine, voice, rate_percent, text, spoken_text, prompt_id, duration_ms, is_silent,
           user_id, session_id, message_id, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         ON CONFLICT (id) DO NOTHING`,
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
      for (const f of files) await this.put(c, a.id, f);
    });
  }

  private async put(on: Executor, audioId: string, f: NewAudioFile): Promise<void> {
    await on.query(
      `INSERT INTO audio_files (audio_id, format, bytes, original_ext, data) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (audio_id, format) DO UPDATE SET bytes = excluded.bytes, original_ext = excluded.original_ext,
         data = COALESCE(excluded.data, audio_files.data)`,
      [audioId, f.format, f.bytes, f.originalExt, f.data ?? null],
    );
  }

  putFile(audioId: string, file: NewAudioFile): Promise<void> {
    return this.put(this.db.pool, audioId, file);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.pool.query('UPDATE audio SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  async remove(id: string): Promise<void> {
    await this.db.pool.query('DELETE FROM audio WHERE id = $1', [id]);
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
