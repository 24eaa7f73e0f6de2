/**
 * The call-control port: what the IVR and the notifier need from a PBX.
 * The real adapter speaks ARI (ari-client) to Asterisk or to the simulator in
 * src/sim, which speaks the same protocol; nothing above this port knows
 * which. Every method of a Call may find the channel already gone (the caller
 * hung up while a request was in flight): that resolves quietly as a
 * hang-up, it never throws "Channel not found" at the caller of the port.
 */

/** Why a call ended, in Asterisk's terms (Q.850 cause and its text). */
export interface HangupInfo {
  cause: number;
  causeText: string;
  /** Who ended it: the far end, or our own hangup(). */
  by: 'remote' | 'local';
}

export interface PlayOptions {
  /** Stop the playback at the first DTMF digit (barge-in). Default true. */
  bargeIn?: boolean;
  /** ARI playback id; generated when absent. */
  playbackId?: string;
}

export type PlaybackOutcome = 'finished' | 'stopped' | 'failed' | 'hangup';

export interface Playback {
  readonly id: string;
  /** Settles when Asterisk reports PlaybackFinished (or the call ends). */
  readonly done: Promise<PlaybackOutcome>;
  stop(): Promise<void>;
}

export interface RecordOptions {
  /** Unique recording name (Asterisk stores it under this name). */
  name: string;
  format?: 'wav' | 'gsm' | 'ulaw' | 'sln';
  maxDurationSeconds?: number;
  maxSilenceSeconds?: number;
  beep?: boolean;
  /** DTMF that ends the recording: 'none', 'any', '*', '#'. Default '#'. */
  terminateOn?: 'none' | 'any' | '*' | '#';
}

export interface RecordingResult {
  name: string;
  /** 'done' (terminated by key, silence or max duration), 'failed', or 'hangup'. */
  outcome: 'done' | 'failed' | 'hangup';
  /** Whole seconds, as Asterisk reports it. */
  durationSeconds: number;
  format: string;
}

export interface Call {
  /** The ARI channel id. */
  readonly id: string;
  readonly direction: 'inbound' | 'outbound';
  /** Caller ID number as Asterisk presents it (may be empty or 'anonymous'). */
  readonly callerNumber: string;
  readonly callerName: string;
  /** The dialled extension (inbound) or the endpoint called (outbound). */
  readonly dialed: string;
  /** Arguments given to the Stasis application. */
  readonly args: readonly string[];
  /** Channel variables given at originate (outbound). */
  readonly variables: Readonly<Record<string, string>>;
  /** Aborted when the channel ends, whoever ended it. */
  readonly signal: AbortSignal;
  readonly isAlive: boolean;
  /** Settles once, with why the call ended. */
  readonly ended: Promise<HangupInfo>;

  answer(): Promise<void>;
  hangup(cause?: 'normal' | 'busy' | 'congestion' | 'no_answer'): Promise<void>;
  /**
   * Plays a media URI ('sound:http://...', 'sound:<name>', 'tone:...', 'digits:123'), or several one
   * after the other in one playback (one request; stopping it stops the rest, as ARI's play does).
   */
  play(media: string | readonly string[], options?: PlayOptions): Promise<Playback>;
  record(options: RecordOptions): Promise<RecordingResult>;
  /** DTMF digits as they arrive: returns an unsubscribe function. */
  onDtmf(listener: (digit: string, durationMs: number) => void): () => void;
  /** Sets a channel variable (AMD results, bookkeeping). */
  setVariable(name: string, value: string): Promise<void>;
}

export interface OriginateOptions {
  /** e.g. 'PJSIP/+15550100101@trunk' or 'Local/100@phoneim-outbound'. */
  endpoint: string;
  callerId?: string;
  timeoutSeconds?: number;
  variables?: Record<string, string>;
  /** Arguments for the Stasis application (the IVR flow to run). */
  appArgs?: string[];
}

export type OriginateResult =
  | { status: 'answered'; call: Call }
  | { status: 'busy' | 'no-answer' | 'failed' | 'congestion'; cause: number; causeText: string };

export interface CallControl {
  /** Each call that enters the Stasis application on its own (inbound). */
  onCall(listener: (call: Call) => void): () => void;
  /** Places an outbound call into the application; resolves when it is answered or has failed. */
  originate(options: OriginateOptions): Promise<OriginateResult>;
  /** Fetches the audio of a stored recording (GET /recordings/stored/{name}/file). */
  fetchRecording(name: string): Promise<Buffer>;
  deleteRecording(name: string): Promise<void>;
  /** Whether the events WebSocket is up. */
  readonly isConnected: boolean;
  close(): Promise<void>;
}

/**
 * A mixing bridge: the calls in it hear each other (for later: two phone
 * users in one live chat). A call that has already ended is skipped quietly.
 */
export interface Bridge {
  readonly id: string;
  add(call: Call): Promise<void>;
  remove(call: Call): Promise<void>;
  /** Ends the bridge; the calls in it stay up, each on its own. */
  destroy(): Promise<void>;
}

/** Bridges, beside call control (the ARI adapter implements both). */
export interface BridgeControl {
  createBridge(name?: string): Promise<Bridge>;
}

/** Device and extension state from AMI: a user's desk phone busy = "on the phone". */
export interface DeviceStateEvent {
  /** A device ('PJSIP/bob-desk') or a hint ('201@phoneim-hints'). */
  device: string;
  state: 'NOT_INUSE' | 'INUSE' | 'BUSY' | 'INVALID' | 'UNAVAILABLE' | 'RINGING' | 'RINGINUSE' | 'ONHOLD' | 'UNKNOWN';
}

export interface DeviceStateSource {
  /** Hears each change of a device's state (and the states read afresh after each login). */
  onDeviceState(listener: (e: DeviceStateEvent) => void): () => void;
  /** The last state heard for each device and hint. */
  snapshot(): ReadonlyMap<string, DeviceStateEvent['state']>;
  close(): Promise<void>;
}
