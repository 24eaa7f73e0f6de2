-- The audio store's index. Files live under <dataDir>/audio/<id[0:2]>/<id>.<format>;
-- a row per audio (speech rendered from text, a prompt, or a recording) and a
-- row per file of it. Speech and prompts form the cache (keyed by content,
-- evicted least-recently-used); recordings are users' data and never evicted.
CREATE TABLE audio (
  id TEXT PRIMARY KEY,                 -- 32 hex: a content hash (speech) or random (recording)
  kind TEXT NOT NULL CHECK (kind IN ('speech', 'prompt', 'recording')),
  engine TEXT,
  voice TEXT,
  rate_percent INTEGER,
  text TEXT,                           -- the text as given (speech, prompt)
  spoken_text TEXT,                    -- what the engine received
  prompt_id TEXT,
  duration_ms INTEGER NOT NULL,
  is_silent BOOLEAN NOT NULL DEFAULT FALSE,
  user_id INTEGER,                     -- recordings: who, in which session, for which message
  session_id TEXT,
  message_id TEXT,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL
);
CREATE INDEX audio_lru ON audio(kind, last_used_at);
CREATE INDEX audio_user ON audio(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX audio_message ON audio(message_id) WHERE message_id IS NOT NULL;

CREATE TABLE audio_files (
  audio_id TEXT NOT NULL REFERENCES audio(id) ON DELETE CASCADE,
  format TEXT NOT NULL CHECK (format IN ('wav', 'mp3', 'ogg', 'original')),
  bytes BIGINT NOT NULL,
  original_ext TEXT,
  PRIMARY KEY (audio_id, format)
);
