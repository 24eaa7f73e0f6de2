/**
 * What the simulator does for each ARI operation it models: channels,
 * bridges, playbacks, recordings, applications, asterisk info and global
 * variables, endpoints, device states, mailboxes, sounds and user events.
 * Status codes and error messages are those of Asterisk 22 (201 with a
 * Location for play and record; 204 for void operations; `{ "message": ... }`
 * for errors). Operations that are declared but not listed here get 501 from
 * the server, as Asterisk answers a method it has no handler for.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ARI_API_VERSION } from './ari-declarations.js';
import { AriHttpError, type Softswitch } from './softswitch.js';

export type Query = Record<string, string | undefined>;
export type Reply = {
  status: number;
  body?: unknown;
  binary?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
};
export type RouteHandler = (
  q: Query,
  p: Record<string, string>,
  body: Record<string, unknown>,
) => Reply | Promise<Reply>;
export type Define = (method: string, pattern: string, handler: RouteHandler) => void;

/** Device states Asterisk knows by name (ast_devstate_val). */
const DEVICE_STATES = [
  'UNKNOWN',
  'NOT_INUSE',
  'INUSE',
  'BUSY',
  'INVALID',
  'UNAVAILABLE',
  'RINGING',
  'RINGINUSE',
  'ONHOLD',
];
const SOUND_FORMATS = new Set(['wav', 'wav16', 'sln', 'sln16', 'ulaw', 'alaw', 'gsm', 'g722']);
const ENDPOINT_TECHS = ['PJSIP', 'SIP', 'IAX2', 'DAHDI'];

export interface AriRoutesOptions {
  soundsDir: string;
  /** When the simulated Asterisk started (asterisk info's status). */
  startedAt: number;
}

export function defineAriRoutes(on: Define, sw: Softswitch, opts: AriRoutesOptions): void {
  const ok = (body?: unknown): Reply => (body === undefined ? { status: 204 } : { status: 200, body });
  const created = (location: string, body: unknown): Reply => ({ status: 201, body, headers: { location } });
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new AriHttpError(400, `${name} must be a number`);
    return n;
  };
  const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === 'true');
  const date = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
  const globals = new Map<string, string>();
  const mailboxes = new Map<string, { old_messages: number; new_messages: number }>();

  // ---- asterisk ---------------------------------------------------------------
  on('GET', 'asterisk/info', (q) => {
    const all: Record<string, unknown> = {
      build: { os: 'Linux', kernel: 'simulated', options: '', machine: 'x86_64', date: '', user: 'phoneim' },
      system: { version: `22.0.0-phoneim-sim (ARI ${ARI_API_VERSION})`, entity_id: sw.asteriskId },
      config: { name: '', default_language: 'en', setid: { user: '', group: '' } },
      status: { startup_time: date(opts.startedAt), last_reload_time: date(opts.startedAt) },
    };
    const only = q.only?.split(',').filter(Boolean);
    for (const o of only ?? []) if (!(o in all)) throw new AriHttpError(400, `Unknown 'only' value ${o}`);
    return ok(only ? Object.fromEntries(only.map((o) => [o, all[o]])) : all);
  });
  on('GET', 'asterisk/ping', () =>
    ok({ asterisk_id: sw.asteriskId, ping: 'pong', timestamp: new Date(sw.clock.now()).toISOString() }),
  );
  on('GET', 'asterisk/variable', (q) => {
    if (!q.variable) throw new AriHttpError(400, 'Variable name is required');
    return ok({ value: globals.get(q.variable) ?? '' });
  });
  on('POST', 'asterisk/variable', (q) => {
    if (!q.variable) throw new AriHttpError(400, 'Variable name is required');
    globals.set(q.variable, q.value ?? '');
    return ok();
  });

  // ---- channels ---------------------------------------------------------------
  const originate = (q: Query, body: Record<string, unknown>, channelId: string | undefined) =>
    ok(
      sw.originate({
        endpoint: q.endpoint,
        app: q.app,
        appArgs: q.appArgs,
        callerId: q.callerId,
        timeout: num(q.timeout, 'timeout'),
        channelId: channelId ?? q.channelId,
        otherChannelId: q.otherChannelId,
        variables: variablesOf(body),
      }),
    );
  on('GET', 'channels', () => ok([...sw.channels.values()].filter((c) => !c.dead).map((c) => sw.snapshot(c))));
  on('POST', 'channels', (q, _p, body) => originate(q, body, undefined));
  on('GET', 'channels/:id', (_q, p) => ok(sw.snapshot(sw.channel(p.id as string))));
  on('POST', 'channels/:id', (q, p, body) => originate(q, body, p.id));
  on('DELETE', 'channels/:id', (q, p) => {
    sw.hangup(p.id as string, q.reason, q.reason_code);
    return ok();
  });
  on('POST', 'channels/:id/answer', (_q, p) => {
    sw.answer(p.id as string);
    return ok();
  });
  on('POST', 'channels/:id/ring', (_q, p) => {
    sw.ring(p.id as string);
    return ok();
  });
  // Indications with nothing to hear on a virtual line: checked like Asterisk checks them, then done.
  for (const [method, path] of [
    ['DELETE', 'ring'],
    ['POST', 'progress'],
    ['POST', 'mute'],
    ['DELETE', 'mute'],
    ['POST', 'hold'],
    ['DELETE', 'hold'],
    ['POST', 'moh'],
    ['DELETE', 'moh'],
    ['POST', 'silence'],
    ['DELETE', 'silence'],
  ] as const)
    on(method, `channels/:id/${path}`, (_q, p) => {
      sw.ring(p.id as string);
      return ok();
    });
  on('POST', 'channels/:id/dtmf', (q, p) => {
    sw.ring(p.id as string);
    if (!q.dtmf) throw new AriHttpError(400, 'DTMF is required');
    return ok();
  });
  const media = (q: Query) => (q.media ?? '').split(',');
  const played = (pb: Record<string, unknown>) => created(`/playbacks/${String(pb.id)}`, pb);
  on('POST', 'channels/:id/play', (q, p) => played(sw.play(p.id as string, media(q), q.playbackId, q.lang)));
  on('POST', 'channels/:id/play/:pb', (q, p) => played(sw.play(p.id as string, media(q), p.pb, q.lang)));
  on('POST', 'channels/:id/record', (q, p) => {
    const rec = sw.record(p.id as string, {
      name: q.name,
      format: q.format,
      maxDurationSeconds: num(q.maxDurationSeconds, 'maxDurationSeconds'),
      maxSilenceSeconds: num(q.maxSilenceSeconds, 'maxSilenceSeconds'),
      ifExists: q.ifExists,
      beep: bool(q.beep),
      terminateOn: q.terminateOn,
    });
    return created(`/recordings/live/${encodeURIComponent(String(rec.name))}`, rec);
  });
  on('GET', 'channels/:id/variable', (q, p) => ok({ value: sw.getVar(p.id as string, q.variable) }));
  on('POST', 'channels/:id/variable', (q, p) => {
    sw.setVar(p.id as string, q.variable, q.value ?? '');
    return ok();
  });

  // ---- playbacks and recordings -------------------------------------------------
  on('GET', 'playbacks/:id', (_q, p) => ok(sw.getPlayback(p.id as string)));
  on('DELETE', 'playbacks/:id', (_q, p) => {
    sw.stopPlayback(p.id as string);
    return ok();
  });
  const storedJson = (r: { name: string; format: string }) => ({ name: r.name, format: r.format });
  on('GET', 'recordings/stored', () => ok([...sw.storedRecordings.values()].map(storedJson)));
  on('GET', 'recordings/stored/:name', (_q, p) => ok(storedJson(sw.stored(p.name as string))));
  on('DELETE', 'recordings/stored/:name', (_q, p) => {
    sw.deleteStored(p.name as string);
    return ok();
  });
  on('GET', 'recordings/stored/:name/file', (_q, p) => {
    const r = sw.stored(p.name as string);
    return { status: 200, binary: r.data, contentType: r.format.startsWith('wav') ? 'audio/wav' : 'audio/basic' };
  });
  on('POST', 'recordings/stored/:name/copy', (q, p) => {
    const r = sw.stored(p.name as string);
    const to = q.destinationRecordingName;
    if (!to || !/^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+/-]{0,127}$/.test(to) || to.includes('..'))
      throw new AriHttpError(400, 'Invalid destination recording name');
    if (sw.storedRecordings.has(to)) throw new AriHttpError(409, 'A recording with the same name already exists');
    const copy = { ...r, name: to, data: Buffer.from(r.data) };
    sw.storedRecordings.set(to, copy);
    return ok(storedJson(copy));
  });
  on('GET', 'recordings/live/:name', (_q, p) => ok(sw.getLiveRecording(p.name as string)));
  on('DELETE', 'recordings/live/:name', (_q, p) => {
    sw.cancelRecording(p.name as string);
    return ok();
  });
  on('POST', 'recordings/live/:name/stop', (_q, p) => {
    sw.stopRecording(p.name as string);
    return ok();
  });

  // ---- bridges ------------------------------------------------------------------
  on('GET', 'bridges', () => ok([...sw.bridges.values()].map((b) => sw.bridgeJson(b))));
  on('POST', 'bridges', (q) => ok(sw.createBridge({ type: q.type, bridgeId: q.bridgeId, name: q.name })));
  on('POST', 'bridges/:id', (q, p) => ok(sw.createBridge({ type: q.type, bridgeId: p.id, name: q.name })));
  on('GET', 'bridges/:id', (_q, p) => ok(sw.bridgeJson(sw.bridge(p.id as string))));
  on('DELETE', 'bridges/:id', (_q, p) => {
    sw.destroyBridge(p.id as string);
    return ok();
  });
  const channelList = (q: Query) => {
    if (!q.channel) throw new AriHttpError(400, 'Missing parameter channel');
    return q.channel.split(',');
  };
  on('POST', 'bridges/:id/addChannel', (q, p) => {
    sw.addToBridge(p.id as string, channelList(q));
    return ok();
  });
  on('POST', 'bridges/:id/removeChannel', (q, p) => {
    sw.removeFromBridge(p.id as string, channelList(q));
    return ok();
  });

  // ---- applications and user events ----------------------------------------------
  const app = (name: string) => {
    const info = sw.appInfo(name);
    if (!info) throw new AriHttpError(404, 'Application not found');
    return info;
  };
  on('GET', 'applications', () => ok(sw.appNames().map((a) => sw.appInfo(a))));
  on('GET', 'applications/:name', (_q, p) => ok(app(p.name as string)));
  const eventSources = (q: Query) => {
    const list = (q.eventSource ?? '').split(',').filter(Boolean);
    if (list.length === 0) throw new AriHttpError(400, 'Missing parameter eventSource');
    for (const src of list) {
      const [scheme, id = ''] = [src.slice(0, src.indexOf(':')), src.slice(src.indexOf(':') + 1)];
      const known =
        (scheme === 'channel' && sw.channels.has(id)) ||
        (scheme === 'bridge' && sw.bridges.has(id)) ||
        (scheme === 'endpoint' && id.includes('/')) ||
        (scheme === 'deviceState' && id !== '');
      if (!known) throw new AriHttpError(422, `Event source ${src} does not exist`);
    }
    return list;
  };
  on('POST', 'applications/:name/subscription', (q, p) => {
    app(p.name as string);
    const subs = sw.subscriptions.get(p.name as string) ?? new Set<string>();
    for (const src of eventSources(q)) subs.add(src);
    sw.subscriptions.set(p.name as string, subs);
    return ok(app(p.name as string));
  });
  on('DELETE', 'applications/:name/subscription', (q, p) => {
    app(p.name as string);
    const subs = sw.subscriptions.get(p.name as string);
    for (const src of eventSources(q))
      if (!subs?.delete(src)) throw new AriHttpError(409, `Application not subscribed to ${src}`);
    return ok(app(p.name as string));
  });
  on('POST', 'events/user/:event', (q, p, body) => {
    if (!q.application) throw new AriHttpError(400, 'Missing parameter application');
    app(q.application);
    const fields: Record<string, unknown> = { eventname: p.event, userevent: variablesOf(body) };
    for (const src of (q.source ?? '').split(',').filter(Boolean)) {
      const id = src.slice(src.indexOf(':') + 1);
      if (src.startsWith('channel:')) fields.channel = sw.snapshot(sw.channel(id));
      else if (src.startsWith('bridge:')) fields.bridge = sw.bridgeJson(sw.bridge(id));
      else throw new AriHttpError(422, `Event source ${src} does not exist`);
    }
    sw.emitToApp(q.application, 'ChannelUserevent', fields);
    return ok();
  });

  // ---- endpoints and device states ---------------------------------------------------
  const endpoints = () => {
    const names = new Set<string>(['PJSIP/sim-trunk']);
    for (const d of sw.deviceStates.keys()) if (ENDPOINT_TECHS.includes(d.split('/')[0] ?? '')) names.add(d);
    for (const c of sw.channels.values()) if (c.device) names.add(c.device);
    return [...names].map((name) => {
      const [technology = '', resource = ''] = name.split('/');
      const state = sw.deviceStates.get(name);
      const channelIds = [...sw.channels.values()]
        .filter((c) => !c.dead && (c.device === name || (name === 'PJSIP/sim-trunk' && c.direction === 'inbound')))
        .map((c) => c.id);
      return {
        technology,
        resource,
        state: state === 'UNAVAILABLE' || state === 'INVALID' ? 'offline' : 'online',
        channel_ids: channelIds,
      };
    });
  };
  on('GET', 'endpoints', () => ok(endpoints()));
  on('GET', 'endpoints/:tech', (_q, p) => {
    const list = endpoints().filter((e) => e.technology.toLowerCase() === p.tech?.toLowerCase());
    if (list.length === 0 && !ENDPOINT_TECHS.includes(p.tech as string))
      throw new AriHttpError(404, 'Endpoint not found');
    return ok(list);
  });
  on('GET', 'endpoints/:tech/:resource', (_q, p) => {
    const e = endpoints().find((x) => x.technology === p.tech && x.resource === p.resource);
    if (!e) throw new AriHttpError(404, 'Endpoint not found');
    return ok(e);
  });
  const controlled = (name: string) => {
    if (!/^stasis:/i.test(name)) throw new AriHttpError(409, 'Uncontrolled device specified');
    if (name.length <= 'Stasis:'.length) throw new AriHttpError(404, 'Device name is missing');
  };
  on('GET', 'deviceStates', () =>
    ok([...sw.deviceStates].filter(([name]) => /^stasis:/i.test(name)).map(([name, state]) => ({ name, state }))),
  );
  on('GET', 'deviceStates/:name', (_q, p) =>
    ok({ name: p.name, state: sw.deviceStates.get(p.name as string) ?? 'UNKNOWN' }),
  );
  on('PUT', 'deviceStates/:name', (q, p) => {
    controlled(p.name as string);
    const state = q.deviceState ?? '';
    if (!DEVICE_STATES.includes(state) || state === 'UNKNOWN') throw new AriHttpError(500, 'Unknown device');
    sw.setDeviceState(p.name as string, state);
    return ok();
  });
  on('DELETE', 'deviceStates/:name', (_q, p) => {
    controlled(p.name as string);
    if (!sw.deviceStates.has(p.name as string)) throw new AriHttpError(404, 'Device name is missing');
    sw.setDeviceState(p.name as string, 'UNKNOWN');
    sw.deviceStates.delete(p.name as string);
    return ok();
  });

  // ---- mailboxes (Asterisk's res_ari_mailboxes: counts set from outside) -------------
  const mailbox = (name: string) => {
    const m = mailboxes.get(name);
    if (!m) throw new AriHttpError(404, 'Mailbox does not exist');
    return { name, ...m };
  };
  on('GET', 'mailboxes', () => ok([...mailboxes.keys()].map(mailbox)));
  on('GET', 'mailboxes/:name', (_q, p) => ok(mailbox(p.name as string)));
  on('PUT', 'mailboxes/:name', (q, p) => {
    const oldMessages = num(q.oldMessages, 'oldMessages');
    const newMessages = num(q.newMessages, 'newMessages');
    if (oldMessages === undefined || newMessages === undefined)
      throw new AriHttpError(400, 'Missing parameter oldMessages or newMessages');
    mailboxes.set(p.name as string, { old_messages: oldMessages, new_messages: newMessages });
    return ok();
  });
  on('DELETE', 'mailboxes/:name', (_q, p) => {
    if (!mailboxes.delete(p.name as string)) throw new AriHttpError(404, 'Mailbox does not exist');
    return ok();
  });

  // ---- sounds --------------------------------------------------------------------------
  on('GET', 'sounds', (q) => ok(sounds(opts.soundsDir, q.lang, q.format)));
  on('GET', 'sounds/:id', (_q, p) => {
    const s = sounds(opts.soundsDir).find((x) => x.id === p.id);
    if (!s) throw new AriHttpError(404, 'Sound not found');
    return ok(s);
  });
}

/** The sounds directory as Asterisk lists it: `<dir>/<lang>/<id>.<format>`, and `<dir>/<id>.<format>` as English. */
function sounds(dir: string, lang?: string, format?: string) {
  const found = new Map<string, { id: string; formats: { language: string; format: string }[] }>();
  const scan = (sub: string, language: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, sub));
    } catch {
      return;
    }
    for (const file of names) {
      const dot = file.lastIndexOf('.');
      const ext = file.slice(dot + 1);
      if (dot <= 0 || !SOUND_FORMATS.has(ext)) continue;
      const id = file.slice(0, dot);
      const s = found.get(id) ?? { id, formats: [] };
      s.formats.push({ language, format: ext });
      found.set(id, s);
    }
  };
  scan('', 'en');
  let subs: string[] = [];
  try {
    subs = readdirSync(dir).filter((d) => /^[a-z]{2}(_[A-Z]{2})?$/.test(d) && statSync(join(dir, d)).isDirectory());
  } catch {
    // no sounds directory: no sounds
  }
  for (const d of subs) scan(d, d);
  return [...found.values()]
    .map((s) => ({
      ...s,
      formats: s.formats.filter((f) => (!lang || f.language === lang) && (!format || f.format === format)),
    }))
    .filter((s) => s.formats.length > 0)
    .sort((a, b) => a.id.localeCompare(b.id));
}

function variablesOf(body: Record<string, unknown>): Record<string, string> {
  const v = body.variables;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}
