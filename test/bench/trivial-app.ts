/**
 * The floor of any ARI application, for the benches to measure ours beside:
 * it answers, plays a fixed prompt, and on each key stops the prompt and
 * plays the fixed one again; optionally it hangs up after the n-th key. It
 * talks to Asterisk the way our adapter does (REST through ari-client, events
 * on a WebSocket to /ari/events), so the difference is what our application
 * does, not the transport. No state beyond the current playback of each call.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';

interface Rest {
  channels: {
    answer(p: { channelId: string }): Promise<unknown>;
    play(p: { channelId: string; media: string; playbackId: string }): Promise<unknown>;
    hangup(p: { channelId: string }): Promise<unknown>;
  };
  playbacks: { stop(p: { playbackId: string }): Promise<unknown> };
}

export interface TrivialApp {
  close(): Promise<void>;
  readonly errors: number;
}

export async function startTrivialApp(o: {
  url: string;
  user: string;
  password: string;
  app: string;
  media: string;
  /** Hang up after this many keys (0: never; the caller hangs up). */
  hangupAfterKeys?: number;
}): Promise<TrivialApp> {
  const globals = globalThis as { log?: unknown };
  const ari = createRequire(import.meta.url)('ari-client') as {
    connect(url: string, user: string, password: string): Promise<Rest>;
  };
  // swagger-client's global logger (see ari-call-control.ts): silenced the same way.
  if (typeof globals.log === 'function' && String(globals.log).includes('log.history')) globals.log = () => {};
  const client = await ari.connect(o.url, o.user, o.password);
  const calls = new Map<string, { playback: string | undefined; keys: number }>();
  let errors = 0;
  const quietly = (p: Promise<unknown>) => {
    p.catch(() => {
      errors++;
    });
  };
  const play = (channelId: string) => {
    const c = calls.get(channelId);
    if (!c) return;
    const playbackId = randomUUID();
    c.playback = playbackId;
    quietly(client.channels.play({ channelId, media: o.media, playbackId }));
  };
  const u = new URL(o.url);
  u.protocol = 'ws:';
  u.pathname = '/ari/events';
  u.search = new URLSearchParams({ app: o.app, api_key: `${o.user}:${o.password}` }).toString();
  const ws = new WebSocket(u);
  ws.on('message', (data) => {
    const e = JSON.parse(data.toString()) as {
      type: string;
      channel?: { id: string };
      playback?: { id: string; target_uri?: string };
    };
    const id = e.channel?.id;
    switch (e.type) {
      case 'StasisStart':
        if (!id) return;
        calls.set(id, { playback: undefined, keys: 0 });
        void client.channels
          .answer({ channelId: id })
          .then(() => play(id))
          .catch(() => errors++);
        return;
      case 'ChannelDtmfReceived': {
        const c = id ? calls.get(id) : undefined;
        if (!c || !id) return;
        c.keys++;
        if (c.playback) quietly(client.playbacks.stop({ playbackId: c.playback }).catch(() => undefined));
        c.playback = undefined;
        if (o.hangupAfterKeys && c.keys >= o.hangupAfterKeys) quietly(client.channels.hangup({ channelId: id }));
        else play(id);
        return;
      }
      case 'PlaybackFinished': {
        const c = calls.get(e.playback?.target_uri?.replace(/^channel:/, '') ?? '');
        if (c && c.playback === e.playback?.id) c.playback = undefined;
        return;
      }
      case 'StasisEnd':
        if (id) calls.delete(id);
        return;
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    get errors() {
      return errors;
    },
    close: async () => {
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}
