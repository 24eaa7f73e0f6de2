/**
 * A phone on a simulator that runs in another process: calls placed, keys
 * pressed, speech sent and hang-ups through the simulator's control API over
 * HTTP, and what the caller hears read from its event stream
 * (/dev/phone/events), whose captions are the text the node's audio server
 * rendered behind each playback - the transcript the in-process tests read
 * with the audio server's textFor.
 */
import { readFileSync } from 'node:fs';

export interface Heard {
  /** The words behind the playback (the media URI itself when the node knows no words for it). */
  text: string;
  /** What was played, e.g. sound:http://127.0.0.1:PORT/audio/ID.wav?... */
  media: string;
}

interface Caption {
  channelId: string | undefined;
  heard: Heard;
}

/** The event stream and the calls of one simulator's control API. */
export class RemotePhone {
  private readonly captions: Caption[] = [];
  /** Which channel each playback plays to (from the ARI events that precede its captions). */
  private readonly targets = new Map<string, string>();

  private constructor(
    readonly base: string,
    private readonly token: string,
    private readonly abort: AbortController,
  ) {}

  /** Opens the event stream first, so that no caption of a call placed later is missed. */
  static async connect(base: string, token: string): Promise<RemotePhone> {
    const abort = new AbortController();
    const phone = new RemotePhone(base, token, abort);
    const res = await fetch(`${base}/dev/phone/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
    const reader = res.body.getReader();
    void (async () => {
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += Buffer.from(value as Uint8Array).toString('utf8');
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) phone.onEvent(event, JSON.parse(data) as Record<string, unknown>);
        }
      }
    })();
    return phone;
  }

  private onEvent(event: string, data: Record<string, unknown>): void {
    if (event === 'ari') {
      const pb = data.playback as { id?: string; target_uri?: string } | undefined;
      if (data.type === 'PlaybackStarted' && pb?.id && pb.target_uri?.startsWith('channel:'))
        this.targets.set(pb.id, pb.target_uri.slice('channel:'.length));
    } else if (event === 'caption') {
      const c = data as { playbackId: string; media: string; text: string };
      this.captions.push({ channelId: this.targets.get(c.playbackId), heard: { text: c.text, media: c.media } });
    }
  }

  /** What the callers of `channelId` heard so far, in order. */
  heardOn(channelId: string): Heard[] {
    return this.captions.filter((c) => c.channelId === channelId).map((c) => c.heard);
  }

  async request(method: string, path: string, body?: unknown, type = 'application/json'): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** A caller with caller ID `from` dials `to`. */
  async call(from: string, to: string): Promise<RemoteCall> {
    const placed = (await this.request('POST', '/sim/calls', { from, to })) as { channelId: string };
    return new RemoteCall(this, placed.channelId);
  }

  close(): void {
    this.abort.abort();
  }
}

/** One call placed through a RemotePhone, read as a transcript. */
export class RemoteCall {
  private cursor = 0;

  constructor(
    private readonly phone: RemotePhone,
    readonly channelId: string,
  ) {}

  get heard(): Heard[] {
    return this.phone.heardOn(this.channelId);
  }

  /** Waits for the next playback (after those already matched) whose words match; returns it. */
  async hears(pattern: RegExp, timeoutMs = 20_000): Promise<Heard> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = this.heard;
      while (this.cursor < list.length) {
        const h = list[this.cursor++] as Heard;
        if (pattern.test(h.text)) return h;
      }
      if (Date.now() > deadline)
        throw new Error(
          `did not hear ${pattern}; heard:\n  ${list
            .slice(-12)
            .map((h) => h.text)
            .join('\n  ')}`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async pressKeys(digits: string): Promise<void> {
    await this.phone.request('POST', `/sim/calls/${this.channelId}/keys`, { digits });
  }

  /** The caller says what the WAV file holds. */
  async speak(wavPath: string): Promise<void> {
    await this.phone.request('POST', `/sim/calls/${this.channelId}/speech`, readFileSync(wavPath), 'audio/wav');
  }

  async hangup(): Promise<void> {
    await this.phone.request('POST', `/sim/calls/${this.channelId}/hangup`);
  }
}
