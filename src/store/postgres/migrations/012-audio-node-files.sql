-- Speech and prompts are files on the disk of each node that rendered them
-- (nodes share one store, not one disk): the store says which node holds which
-- files, so that a node reconciles with its own disk and evicts its own files
-- only. The audio row (what the words are, how they were spoken) is shared: a
-- node asked for speech it does not hold renders it again from that row. It
-- goes once no node holds a file of it. Recordings keep their files in
-- audio_files (their bytes are in the store).
CREATE TABLE audio_node_files (
  node_id TEXT NOT NULL,               -- presence.nodeId; '' = rendered before this migration, on some node
  audio_id TEXT NOT NULL REFERENCES audio(id) ON DELETE CASCADE,
  format TEXT NOT NULL CHECK (format IN ('wav', 'mp3', 'ogg')),
  bytes BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,        -- this node's least-recently-used order
  PRIMARY KEY (node_id, audio_id, format)
);
CREATE INDEX audio_node_files_audio ON audio_node_files(audio_id);
INSERT INTO audio_node_files (node_id, audio_id, format, bytes, last_used_at)
  SELECT '', f.audio_id, f.format, f.bytes, a.last_used_at FROM audio_files f JOIN audio a ON a.id = f.audio_id
  WHERE a.kind <> 'recording' AND f.format IN ('wav', 'mp3', 'ogg');
DELETE FROM audio_files WHERE audio_id IN (SELECT id FROM audio WHERE kind <> 'recording');
