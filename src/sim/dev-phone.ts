/**
 * The dev phone: a telephone in the browser, served by the simulator's
 * control server at /dev/phone (only while the simulator runs). The page is
 * plain files (dev-phone/); this module serves them and what the page needs
 * beyond the control API:
 * - /dev/phone/events: Server-Sent Events - the simulator's ARI events (DTMF
 *   digits left out, as the control API never lists keys), and calls ringing
 *   the number this page claimed. A claim lasts as long as the stream: the
 *   number rings the page (callee behaviour 'phone') and goes back to what it
 *   was when the page goes away.
 * - /dev/phone/media: the audio of a media URI the simulator is playing, so
 *   the browser hears what the caller hears. Only URIs of playbacks the
 *   simulator holds are served: this is no open proxy.
 * - /dev/phone/ringing/:id/answer|decline.
 * Everything but the static files wants the control token (header or ?token=).
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import { type Handler, type Router, sendJson } from './http-server.js';
import { tokenGuard } from './control-api.js';
import type { Simulator } from './index.js';
import type { AriEvent } from './softswitch.js';

const ASSETS: Record<string, [file: string, type: string]> = {
  '/dev/phone': ['index.html', 'text/html; charset=utf-8'],
  '/dev/phone/phone.css': ['phone.css', 'text/css; charset=utf-8'],
  '/dev/phone/phone.js': ['phone.js', 'text/javascript; charset=utf-8'],
};
const ASSET_DIR = new URL('./dev-phone/', import.meta.url);
const HEARTBEAT_MS = 15_000;
/** At most this many pages hold an event stream at once. */
const MAX_STREAMS = 32;
const CLAIM = /^\+?[0-9A-Za-z*#-]{1,32}$/;

export function mountDevPhone(router: Router, sim: Simulator, token: string): void {
  const guard = tokenGuard(token);
  const sw = sim.softswitch;
  let streams = 0;

  for (const [path, [file, type]] of Object.entries(ASSETS))
    router.get(path, async ({ res }) => {
      const body = await readFile(new URL(file, ASSET_DIR));
      res.writeHead(200, {
        'content-type': type,
        'content-length': body.length,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'content-security-policy':
          "default-src 'self'; media-src 'self' blob:; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
      });
      res.end(body);
    });

  router.get(
    '/dev/phone/events',
    guard(({ req, res, url }) => {
      const claim = url.searchParams.get('claim') ?? '';
      if (claim !== '' && !CLAIM.test(claim))
        throw new AppError('SIM_INVALID_INPUT', 'claim must be a phone number', { claim });
      if (streams >= MAX_STREAMS)
        throw new AppError('SIM_TOO_MANY_PHONES', 'too many dev phones are open', { max: MAX_STREAMS });
      streams++;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      const before = claim ? sw.calleeOf(claim) : undefined;
      if (claim) sw.setCallee(claim, { behavior: 'phone' });
      send('hello', {
        speedFactor: sw.speedFactor,
        app: sim.app,
        claim: claim || undefined,
        directory: sim.directory,
      });
      const offEvents = sw.onEvent((e) => {
        send('ari', withoutDigits(e));
        const pb = e.playback as { id?: string; media_uri?: string } | undefined;
        if (pb?.media_uri && (e.type === 'PlaybackStarted' || e.type === 'PlaybackContinuing')) {
          const text = sim.captions(pb.media_uri);
          if (text) send('caption', { playbackId: pb.id, media: pb.media_uri, text });
        }
      });
      const offRinging = sw.onRinging((r) => {
        if (claim && (r.callee === claim || r.endpoint === claim)) send('ringing', r);
      });
      const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
      const close = () => {
        clearInterval(heartbeat);
        offEvents();
        offRinging();
        streams--;
        if (!claim || sw.calleeOf(claim)?.behavior !== 'phone') return;
        if (before) sw.setCallee(claim, before);
        else sw.removeCallee(claim);
      };
      req.once('close', close);
    }),
  );

  router.get(
    '/dev/phone/media',
    guard(async ({ res, url }) => {
      const uri = url.searchParams.get('uri') ?? '';
      const playing = [...sw.playbacks.values()].some((p) => p.media.includes(uri));
      const played = [...sim.callers.values()].some((c) => c.playbacks.some((p) => p.media === uri));
      let body: Buffer | undefined;
      if (uri.startsWith('recording:')) {
        const r = sim.recording(uri.slice('recording:'.length));
        body = r?.format === 'wav' ? r.data : undefined;
      } else if (playing || played) body = await sim.media.listenable(uri);
      if (!(playing || played) || !body) throw new AppError('SIM_MEDIA_NOT_FOUND', 'no audio to hear for that media');
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length, 'cache-control': 'no-store' });
      res.end(body);
    }),
  );

  const ringing = (verb: 'answer' | 'decline'): Handler =>
    guard(({ res, params }) => {
      const id = params.id as string;
      const done = verb === 'answer' ? sw.answerRinging(id) : sw.rejectRinging(id);
      if (!done) throw new AppError('SIM_CALL_NOT_FOUND', 'no call rings with that id', { channelId: id });
      sendJson(res, 200, { channelId: id, [verb === 'answer' ? 'answered' : 'declined']: true });
    });
  router.post('/dev/phone/ringing/:id/answer', ringing('answer'));
  router.post('/dev/phone/ringing/:id/decline', ringing('decline'));
}

function withoutDigits(e: AriEvent): AriEvent {
  if (e.type !== 'ChannelDtmfReceived') return e;
  const { digit: _digit, ...rest } = e;
  return rest as AriEvent;
}
