/**
 * The storage the audio file server needs: the index of its audio (speech
 * rendered from text, prompts, recordings) and of the files of each. The
 * files themselves live on disk under <dataDir>/audio; the index says what
 * they are, how long they play, whose they are, and when the cache last used
 * them (for least-recently-used eviction). The service holds the index in
 * memory as well (loaded once at start), so a cache hit reads nothing here.
 * A recording's bytes are kept here too: several nodes share one store but
 * not one disk, and any of them may serve a voice message.
 *
 * Several nodes: an adapter is opened for one node (presence.nodeId) and
 * speaks for it. A recording's row and files are everyone's. The row of
 * speech (and of a prompt) is shared too: it says what was spoken and how,
 * so a node that holds no file of it can render it again. But its files are
 * each node's own: the index says which node holds which files, and every
 * file method below reads and changes only this node's, so one node's
 * reconciliation with its disk and its eviction leave the other nodes' files
 * indexed. Speech rows from before the per-node index (migration 012) belong
 * to no node until a node that has the file claims them.
 *
 * Every method is async; `insertAudio` writes the audio and its files
 * atomically, and an audio id already stored (the same words rendered by
 * another node: ids of speech are content keys) is left as it is (its files
 * are recorded as this node's). `src/store/<backend>/` implements this port.
 */

export type AudioKind = 'speech' | 'prompt' | 'recording';
/** A file of an audio: a playable format, or the recording as it was received. */
export type AudioFileFormat = 'wav' | 'mp3' | 'ogg' | 'original';

/** An audio as the service indexes it in memory. */
export interface AudioIndexEntry {
  id: string;
  kind: AudioKind;
  /** The text as given (speech, prompt); null for recordings. */
  text: string | null;
  durationMs: number;
  lastUsedAt: number;
  /** Bytes of every file of this audio (of speech: this node's files). */
  bytes: number;
  /** Speech indexed before the per-node index, by no node in particular: `claim` it when its file is on this disk. */
  isUnclaimed?: boolean;
}

/** A new audio row. Speech and prompts name their engine and voice; recordings their user, session and message. */
export interface NewAudio {
  id: string;
  kind: AudioKind;
  engine: string | null;
  voice: string | null;
  ratePercent: number | null;
  text: string | null;
  /** What the engine received (the sanitised text). */
  spokenText: string | null;
  promptId: string | null;
  durationMs: number;
  isSilent: boolean;
  userId: number | null;
  sessionId: string | null;
  messageId: string | null;
  /** Created and last used at. */
  now: number;
}

export interface NewAudioFile {
  format: AudioFileFormat;
  bytes: number;
  /** The recording's original format (wav, ulaw, gsm, ...); null for the others. */
  originalExt: string | null;
  /** The file's bytes, kept in the store (a recording's); absent: the file is on the node's disk only. */
  data?: Buffer;
}

/** What the store knows of one audio (recordings: who, which session and message). */
export interface AudioRecord {
  id: string;
  kind: AudioKind;
  text: string | null;
  durationMs: number;
  userId: number | null;
  sessionId: string | null;
  messageId: string | null;
  isSilent: boolean;
}

/** How a speech (or prompt) audio was made: enough to render the same audio again on another node. */
export interface SpeechSource {
  id: string;
  kind: 'speech' | 'prompt';
  engine: string;
  voice: string;
  ratePercent: number;
  text: string;
  spokenText: string;
  promptId: string | null;
}

/** The audio file server's storage port, for one node. */
export interface AudioStore {
  /**
   * What the service loads at start: every recording, and the speech and
   * prompts whose files this node holds (or that no node has claimed yet),
   * with the bytes of those files and this node's last use.
   */
  loadIndex(): Promise<AudioIndexEntry[]>;
  /** Stores an audio and its first files (of speech: this node's), all or nothing. */
  insertAudio(audio: NewAudio, files: NewAudioFile[]): Promise<void>;
  /** Records (or replaces) one more file of an audio (a transcoded format; of speech: this node's). */
  putFile(audioId: string, file: NewAudioFile): Promise<void>;
  /** Marks an audio used now (LRU order; of speech: this node's). */
  touch(id: string, now: number): Promise<void>;
  /**
   * This node forgets an audio (evicted, or its file was lost from its disk):
   * of speech, this node's file rows, and the row itself once no node holds a
   * file of it; a recording at once, with its files.
   */
  remove(id: string): Promise<void>;
  /** Records unclaimed speech (see `isUnclaimed`) as held by this node too. */
  claim(ids: string[]): Promise<void>;
  /** How a speech or prompt audio was made; null for recordings and unknown ids. */
  speechSource(id: string): Promise<SpeechSource | null>;
  /**
   * Ties a recording to the message (and session) it became; fields left
   * undefined keep their value. False when no recording has that id.
   */
  linkRecording(id: string, link: { messageId?: string | undefined; sessionId?: string | undefined }): Promise<boolean>;
  describe(id: string): Promise<AudioRecord | null>;
  /** The bytes of one file of an audio kept in the store; null when none are (speech, or an unknown id). */
  fileData(audioId: string, format: AudioFileFormat): Promise<Buffer | null>;
}
