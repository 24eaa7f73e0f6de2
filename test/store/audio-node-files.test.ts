/** Speech indexed before each node had its own index (migration 012) belongs to no node until one with the file claims it. */
import { join } from 'node:path';
import t from 'tap';
import { SqliteAudio } from '../../src/store/sqlite/audio.js';
import { loadMigrations, migrate, openDb } from '../../src/store/sqlite/db.js';

t.test("the migration moves speech files to no node's index; recordings keep theirs", async (t) => {
  const db = openDb({ path: join(t.testdir({}), 'db.sqlite') });
  t.teardown(() => db.close());
  const all = loadMigrations();
  migrate(
    db,
    all.filter((m) => m.version < 12),
  );
  const audio = db.prepare(
    'INSERT INTO audio (id, kind, text, duration_ms, created_at, last_used_at) VALUES (?, ?, ?, 1000, 5, 7)',
  );
  const file = db.prepare('INSERT INTO audio_files (audio_id, format, bytes, data) VALUES (?, ?, ?, ?)');
  const speech = 'ab'.repeat(16);
  const recording = 'cd'.repeat(16);
  audio.run(speech, 'speech', 'hello');
  file.run(speech, 'wav', 3000, null);
  file.run(speech, 'mp3', 500, null);
  audio.run(recording, 'recording', null);
  file.run(recording, 'wav', 2000, Buffer.from('RIFF'));
  file.run(recording, 'original', 1000, null);
  migrate(db, all);

  t.same(
    db.prepare('SELECT node_id, audio_id, format, bytes, last_used_at FROM audio_node_files ORDER BY format').all(),
    [
      { node_id: '', audio_id: speech, format: 'mp3', bytes: 500, last_used_at: 7 },
      { node_id: '', audio_id: speech, format: 'wav', bytes: 3000, last_used_at: 7 },
    ],
  );
  t.same(db.prepare('SELECT audio_id, format FROM audio_files ORDER BY format').all(), [
    { audio_id: recording, format: 'original' },
    { audio_id: recording, format: 'wav' },
  ]);
  const node1 = new SqliteAudio(db, 'node-1');
  const node2 = new SqliteAudio(db, 'node-2');
  t.match(node1.loadIndex(), [
    { id: recording, bytes: 3000, isUnclaimed: undefined },
    { id: speech, bytes: 3500, lastUsedAt: 7, isUnclaimed: true },
  ]);
  node1.claim([speech]);
  t.match(node1.loadIndex()[1], { id: speech, bytes: 3500, lastUsedAt: 7, isUnclaimed: undefined }, "node-1's now");
  t.match(node2.loadIndex()[1], { id: speech, isUnclaimed: true }, 'and still unclaimed for node-2');
  node1.remove(speech);
  t.equal(node1.loadIndex().length, 2, 'node-1 forgets its copy: unclaimed for it again');
  t.not(node1.describe(speech), null, 'the row stays while the unclaimed files are there');
});
