/** Voice messages stored with only a signed URL (before audio ids were kept) get their id back on upgrade. */
import { join } from 'node:path';
import t from 'tap';
import { loadMigrations, migrate, openDb } from '../../src/store/sqlite/db.js';

t.test('the migration takes the audio id out of a stored signed URL; other rows are left alone', async (t) => {
  const db = openDb({ path: join(t.testdir({}), 'db.sqlite') });
  t.teardown(() => db.close());
  const all = loadMigrations();
  migrate(
    db,
    all.filter((m) => m.version < 46),
  );
  db.prepare(
    "INSERT INTO users (id, username, account_number, display_name, spoken_name, created_at) VALUES (1, 'alice', '1000', 'A', 'A', 0)",
  ).run();
  db.prepare("INSERT INTO im_sessions (id, owner_id, created_at) VALUES ('s1', 1, 0)").run();
  const insert = db.prepare(
    "INSERT INTO messages (session_id, from_user_id, kind, text, audio_id, audio_url, node_id, created_at) VALUES ('s1', 1, ?, ?, ?, ?, 'n1', 0)",
  );
  insert.run('voice', null, null, 'http://127.0.0.1:8080/audio/rec-4f2a9c/1767312000/0a1b2c3d.wav');
  insert.run('voice', null, 'kept-id', 'http://127.0.0.1:8080/audio/other/1/2.wav');
  insert.run('voice', null, null, 'http://elsewhere.example/voice.wav');
  insert.run('text', 'hello', null, null);
  migrate(db, all);
  const rows = db.prepare('SELECT audio_id AS audioId FROM messages ORDER BY id').all() as { audioId: string | null }[];
  t.same(
    rows.map((r) => r.audioId),
    ['rec-4f2a9c', 'kept-id', null, null],
  );
});
