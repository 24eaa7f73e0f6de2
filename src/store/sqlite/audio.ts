/** The audio file server's index (AudioStore) on SQLite: a row per audio and a row per file of it. */
import type { AudioFileFormat, AudioIndexEntry, AudioRecord, NewAudio, NewAudioFile } from '../../audio/ports.js';
import type { Db } from './db.js';

/** Synchronous; offered as an AudioStore through `promised` (index.ts). */
export class SqliteAudio {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      insert: db.prepare(`INSERT INTO audio (id, kind, engine, voice, rate_percent, text, spoken_text, prompt_id,
        duration_ms, is_silent, user_id, session_id, message_id, created_at, last_used_at)
        VALUES (@id, @kind, @engine, @voice, @ratePercent, @text, @spokenText, @promptId,
        @durationMs, @isSilent, @userId, @sessionId, @messageId, @now, @now)
        ON CONFLICT (id) DO NOTHING`),
      putFile: db.prepare(
        `INSERT INTO audio_files (audio_id, format, bytes, original_ext, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (audio_id, format) DO UPDATE SET bytes = excluded.bytes, original_ext = excluded.original_ext,
           data = COALESCE(excluded.data, audio_files.data)`,
      ),
      data: db.prepare('SELECT data FROM audio_files WHERE audio_id = ? AND format = ?'),
      touch: db.prepare('UPDATE audio SET last_used_at = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM audio WHERE id = ?'),
      link: db.prepare(
        "UPDATE audio SET message_id = COALESCE(@messageId, message_id), session_id = COALESCE(@sessionId, session_id) WHERE id = @id AND kind = 'recording'",
      ),
      get: db.prepare(
        'SELECT id, kind, text, duration_ms AS durationMs, user_id AS userId, session_id AS sessionId, message_id AS messageId, is_silent AS isSilent FROM audio WHERE id = ?',
      ),
    };
  }

  loadIndex(): AudioIndexEntry[] {
    return this.db
      .prepare(
        `SELECT a.id, a.kind, a.text, a.duration_ms AS durationMs, a.last_used_at AS lastUsedAt,
           COALESCE((SELECT SUM(bytes) FROM audio_files f WHERE f.audio_id = a.id), 0) AS bytes
         FROM audio a`,
      )
      .all() as AudioIndexEntry[];
  }

  insertAudio(audio: NewAudio, files: NewAudioFile[]): void {
    this.db.transaction(() => {
      this.stmt.insert.run({ ...audio, isSilent: audio.isSilent ? 1 : 0 });
      for (const f of files) this.putFile(audio.id, f);
    })();
  }

  putFile(audioId: string, file: NewAudioFile): void {
    this.stmt.putFile.run(audioId, file.format, file.bytes, file.originalExt, file.data ?? null);
  }

  touch(id: string, now: number): void {
    this.stmt.touch.run(now, id);
  }

  remove(id: string): void {
    this.stmt.remove.run(id);
  }

  linkRecording(id: string, link: { messageId?: string | undefined; sessionId?: string | undefined }): boolean {
    return this.stmt.link.run({ id, messageId: link.messageId ?? null, sessionId: link.sessionId ?? null }).changes > 0;
  }

  describe(id: string): AudioRecord | null {
    const row = this.stmt.get.get(id) as (Omit<AudioRecord, 'isSilent'> & { isSilent: number }) | undefined;
    return row ? { ...row, isSilent: row.isSilent === 1 } : null;
  }

  fileData(audioId: string, format: AudioFileFormat): Buffer | null {
    return (this.stmt.data.get(audioId, format) as { data: Buffer | null } | undefined)?.data ?? null;
  }
}
