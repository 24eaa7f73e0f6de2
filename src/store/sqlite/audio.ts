/**
 * The audio file server's index (AudioStore) on SQLite, for one node: a row
 * per audio, a row per file of a recording, and a row per file of speech per
 * node that holds it (audio_node_files).
 */
import type {
  AudioFileFormat,
  AudioIndexEntry,
  AudioRecord,
  NewAudio,
  NewAudioFile,
  SpeechSource,
} from '../../audio/ports.js';
import type { Db } from './db.js';

/** Synchronous; offered as an AudioStore through `promised` (index.ts). */
export class SqliteAudio {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly nodeId: string,
  ) {
    this.stmt = {
      insert: db.prepare(`INSERT INTO audio (id, kind, engine, voice, rate_percent, text, spoken_text, prompt_id,
        duration_ms, is_silent, user_id, session_id, message_id, created_at, last_used_at)
        VALUES (@id, @kind, @engine, @voice, @ratePercent, @text, @spokenText, @promptId,
        @durationMs, @isSilent, @userId, @sessionId, @messageId, @now, @now)
        ON CONFLICT (id) DO NOTHING`),
      kind: db.prepare('SELECT kind FROM audio WHERE id = ?'),
      putFile: db.prepare(
        `INSERT INTO audio_files (audio_id, format, bytes, original_ext, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (audio_id, format) DO UPDATE SET bytes = excluded.bytes, original_ext = excluded.original_ext,
           data = COALESCE(excluded.data, audio_files.data)`,
      ),
      putNodeFile: db.prepare(
        `INSERT INTO audio_node_files (node_id, audio_id, format, bytes, last_used_at) VALUES (@node, @id, @format, @bytes,
           COALESCE(@now, (SELECT MAX(last_used_at) FROM audio_node_files WHERE node_id = @node AND audio_id = @id),
             (SELECT last_used_at FROM audio WHERE id = @id)))
         ON CONFLICT (node_id, audio_id, format) DO UPDATE SET bytes = excluded.bytes`,
      ),
      data: db.prepare('SELECT data FROM audio_files WHERE audio_id = ? AND format = ?'),
      touch: db.prepare("UPDATE audio SET last_used_at = ? WHERE id = ? AND kind = 'recording'"),
      touchNode: db.prepare('UPDATE audio_node_files SET last_used_at = ? WHERE node_id = ? AND audio_id = ?'),
      removeNode: db.prepare('DELETE FROM audio_node_files WHERE node_id = ? AND audio_id = ?'),
      removeUnheld: db.prepare(
        `DELETE FROM audio WHERE id = @id
           AND (kind = 'recording' OR NOT EXISTS (SELECT 1 FROM audio_node_files WHERE audio_id = @id))`,
      ),
      claim: db.prepare(
        `INSERT INTO audio_node_files (node_id, audio_id, format, bytes, last_used_at)
         SELECT @node, audio_id, format, bytes, last_used_at FROM audio_node_files WHERE node_id = '' AND audio_id = @id
         ON CONFLICT (node_id, audio_id, format) DO NOTHING`,
      ),
      link: db.prepare(
        "UPDATE audio SET message_id = COALESCE(@messageId, message_id), session_id = COALESCE(@sessionId, session_id) WHERE id = @id AND kind = 'recording'",
      ),
      get: db.prepare(
        'SELECT id, kind, text, duration_ms AS durationMs, user_id AS userId, session_id AS sessionId, message_id AS messageId, is_silent AS isSilent FROM audio WHERE id = ?',
      ),
      source: db.prepare(
        `SELECT id, kind, engine, voice, rate_percent AS ratePercent, text, spoken_text AS spokenText, prompt_id AS promptId
         FROM audio WHERE id = ? AND kind <> 'recording'`,
      ),
    };
  }

  loadIndex(): AudioIndexEntry[] {
    const rows = this.db
      .prepare(
        `SELECT a.id, a.kind, a.text, a.duration_ms AS durationMs, a.last_used_at AS lastUsedAt,
           COALESCE((SELECT SUM(bytes) FROM audio_files f WHERE f.audio_id = a.id), 0) AS bytes, 0 AS isUnclaimed
         FROM audio a WHERE a.kind = 'recording'
         UNION ALL
         SELECT a.id, a.kind, a.text, a.duration_ms, MAX(n.last_used_at), SUM(n.bytes), n.node_id = '' AS isUnclaimed
         FROM audio a JOIN audio_node_files n ON n.audio_id = a.id
         -- '': speech indexed before the per-node index (migration 012), by no node in particular.
         WHERE n.node_id = @node OR (n.node_id = '' AND NOT EXISTS
           (SELECT 1 FROM audio_node_files m WHERE m.audio_id = a.id AND m.node_id = @node))
         GROUP BY a.id, n.node_id`,
      )
      .all({ node: this.nodeId }) as (Omit<AudioIndexEntry, 'isUnclaimed'> & { isUnclaimed: number })[];
    return rows.map(({ isUnclaimed, ...r }) => (isUnclaimed ? { ...r, isUnclaimed: true } : r));
  }

  insertAudio(audio: NewAudio, files: NewAudioFile[]): void {
    this.db.transaction(() => {
      this.stmt.insert.run({ ...audio, isSilent: audio.isSilent ? 1 : 0 });
      for (const f of files) this.put(audio.id, audio.kind === 'recording', f, audio.now);
    })();
  }

  /** A recording's file, or this node's file of speech (`now`: its last use; null: as its other files'). */
  private put(audioId: string, isRecording: boolean, file: NewAudioFile, now: number | null): void {
    if (isRecording || file.format === 'original')
      this.stmt.putFile.run(audioId, file.format, file.bytes, file.originalExt, file.data ?? null);
    else this.stmt.putNodeFile.run({ node: this.nodeId, id: audioId, format: file.format, bytes: file.bytes, now });
  }

  putFile(audioId: string, file: NewAudioFile): void {
    const row = this.stmt.kind.get(audioId) as { kind: string } | undefined;
    // An unknown id fails on the files' foreign key, like a recording's.
    this.put(audioId, row === undefined || row.kind === 'recording', file, null);
  }

  touch(id: string, now: number): void {
    this.stmt.touch.run(now, id);
    this.stmt.touchNode.run(now, this.nodeId, id);
  }

  remove(id: string): void {
    this.db.transaction(() => {
      this.stmt.removeNode.run(this.nodeId, id);
      this.stmt.removeUnheld.run({ id });
    })();
  }

  claim(ids: string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.stmt.claim.run({ node: this.nodeId, id });
    })();
  }

  speechSource(id: string): SpeechSource | null {
    return (this.stmt.source.get(id) as SpeechSource | undefined) ?? null;
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
