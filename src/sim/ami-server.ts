/**
 * The simulator's AMI face: Asterisk's manager protocol over TCP (key: value
 * lines, a blank line ends a message) for what the platform uses - Login,
 * Logoff, Ping, Originate (a call into the dialplan, which hands it to the
 * Stasis application), CoreShowChannels, DeviceStateList, ExtensionStateList - and the
 * DeviceStateChange and ExtensionStatus events of virtual phones. Nothing but
 * Login is answered before a successful Login; a failed Login closes the
 * connection, as on Asterisk.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { isAppError } from '../core/errors.js';
import { listenOn } from '../core/net.js';
import type { Logger } from '../core/logger.js';
import { parseCallerId, type Softswitch } from './softswitch.js';

export const AMI_GREETING = 'Asterisk Call Manager/9.0.0';

const EXTENSION_STATUS: Record<string, [number, string]> = {
  NOT_INUSE: [0, 'Idle'],
  INUSE: [1, 'InUse'],
  BUSY: [2, 'Busy'],
  INVALID: [-1, 'Unknown'],
  UNAVAILABLE: [4, 'Unavailable'],
  RINGING: [8, 'Ringing'],
  RINGINUSE: [9, 'InUse&Ringing'],
  ONHOLD: [16, 'Hold'],
};
const MAX_MESSAGE_CHARS = 64 * 1024;

interface Session {
  socket: Socket;
  authed: boolean;
  events: boolean;
  buffer: string;
}

export interface AmiServerOptions {
  host: string;
  port: number;
  user: string;
  secret: string;
  log: Logger;
}

export class AmiServer {
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  /** exten@context -> device, as `exten => 201,hint,PJSIP/bob-desk`. */
  private readonly hints = new Map<string, string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly sw: Softswitch,
    private readonly opts: AmiServerOptions,
  ) {
    this.server = createServer((socket) => this.accept(socket));
    this.unsubscribe = sw.onDeviceState((device, state) => this.deviceChanged(device, state));
  }

  /** Declares a hint, so the extension's state follows the device's (ExtensionStatus events). */
  addHint(exten: string, context: string, device: string): void {
    this.hints.set(`${exten}@${context}`, device);
  }

  listen(): Promise<number> {
    return listenOn(this.server, this.opts.port, this.opts.host);
  }

  /** Manager connections accepted since start, and open now. */
  get connections(): { accepted: number; open: number } {
    return { accepted: this.accepted, open: this.sessions.size };
  }

  private accepted = 0;

  /** Drops every manager connection (a test of the client's reconnect). */
  dropConnections(): void {
    for (const s of this.sessions) s.socket.destroy();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const s of this.sessions) s.socket.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const s: Session = { socket, authed: false, events: true, buffer: '' };
    this.sessions.add(s);
    this.accepted++;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      s.buffer += chunk;
      if (s.buffer.length > MAX_MESSAGE_CHARS) {
        socket.destroy();
        return;
      }
      for (;;) {
        const m = /\r?\n\r?\n/.exec(s.buffer);
        if (!m) break;
        const raw = s.buffer.slice(0, m.index);
        s.buffer = s.buffer.slice(m.index + m[0].length);
        if (raw.trim() !== '') this.action(s, parseMessage(raw));
      }
    });
    socket.on('close', () => this.sessions.delete(s));
    socket.on('error', () => {});
    socket.write(`${AMI_GREETING}\r\n`);
  }

  private write(s: Session, fields: [string, string | number][]): void {
    if (s.socket.writable) s.socket.write(`${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  }

  private action(s: Session, msg: Map<string, string>): void {
    const action = (msg.get('action') ?? '').toLowerCase();
    const id: [string, string][] = msg.has('actionid') ? [['ActionID', msg.get('actionid') as string]] : [];
    const reply = (response: string, fields: [string, string | number][] = []) =>
      this.write(s, [['Response', response], ...id, ...fields]);
    if (action === 'login') {
      if (msg.get('username') === this.opts.user && msg.get('secret') === this.opts.secret) {
        s.authed = true;
        s.events = !/^off$/i.test(msg.get('events') ?? 'on');
        reply('Success', [['Message', 'Authentication accepted']]);
        if (s.events)
          this.write(s, [
            ['Event', 'FullyBooted'],
            ['Privilege', 'system,all'],
            ['Status', 'Fully Booted'],
          ]);
      } else {
        reply('Error', [['Message', 'Authentication failed']]);
        s.socket.end();
      }
      return;
    }
    if (!s.authed) {
      reply('Error', [['Message', 'Permission denied']]);
      return;
    }
    switch (action) {
      case 'logoff':
        reply('Goodbye', [['Message', 'Thanks for all the fish.']]);
        s.socket.end();
        return;
      case 'ping':
        reply('Success', [
          ['Ping', 'Pong'],
          ['Timestamp', (this.sw.clock.now() / 1000).toFixed(6)],
        ]);
        return;
      case 'originate':
        this.originate(s, msg, reply, id);
        return;
      case 'coreshowchannels': {
        reply('Success', [
          ['EventList', 'start'],
          ['Message', 'Channels will follow'],
        ]);
        const live = [...this.sw.channels.values()].filter((c) => !c.dead);
        for (const c of live) {
          this.write(s, [
            ['Event', 'CoreShowChannel'],
            ...id,
            ['Channel', c.name],
            ['ChannelState', c.state === 'Up' ? 6 : c.state === 'Ringing' ? 5 : c.state === 'Ring' ? 4 : 0],
            ['ChannelStateDesc', c.state],
            ['CallerIDNum', c.caller.number || '<unknown>'],
            ['CallerIDName', c.caller.name || '<unknown>'],
            ['Uniqueid', c.id],
            ['Context', c.dialplan.context],
            ['Exten', c.dialplan.exten],
            ['Priority', c.dialplan.priority],
            ['Application', c.inStasis ? 'Stasis' : ''],
            ['ApplicationData', c.inStasis ? c.dialplan.app_data : ''],
          ]);
        }
        this.write(s, [
          ['Event', 'CoreShowChannelsComplete'],
          ...id,
          ['EventList', 'Complete'],
          ['ListItems', live.length],
        ]);
        return;
      }
      case 'devicestatelist': {
        reply('Success', [
          ['EventList', 'start'],
          ['Message', 'Device State Changes will follow'],
        ]);
        for (const [device, state] of this.sw.deviceStates)
          this.write(s, [['Event', 'DeviceStateChange'], ...id, ['Device', device], ['State', state]]);
        this.write(s, [
          ['Event', 'DeviceStateListComplete'],
          ...id,
          ['EventList', 'Complete'],
          ['ListItems', this.sw.deviceStates.size],
        ]);
        return;
      }
      case 'extensionstatelist': {
        reply('Success', [
          ['EventList', 'start'],
          ['Message', 'Extension Statuses will follow'],
        ]);
        for (const [key, device] of this.hints)
          this.write(s, [['Event', 'ExtensionStatus'], ...id, ...this.hintFields(key, device)]);
        this.write(s, [
          ['Event', 'ExtensionStateListComplete'],
          ...id,
          ['EventList', 'Complete'],
          ['ListItems', this.hints.size],
        ]);
        return;
      }
      default:
        reply('Error', [['Message', 'Invalid/unknown command']]);
        return;
    }
  }

  private originate(
    s: Session,
    msg: Map<string, string>,
    reply: (r: string, f?: [string, string | number][]) => void,
    id: [string, string][],
  ): void {
    const channel = msg.get('channel') ?? '';
    const exten = msg.get('exten');
    const app = msg.get('application');
    let stasisApp: string | undefined;
    let to = exten;
    if (app && app.toLowerCase() === 'stasis') {
      const [name, ...args] = (msg.get('data') ?? '').split(',');
      stasisApp = name;
      to = args[0] ?? exten ?? 's';
    }
    if (!channel || !to) {
      reply('Error', [['Message', 'Channel and Exten (or Application) are required']]);
      return;
    }
    const cid = parseCallerId(msg.get('callerid') ?? '');
    try {
      this.sw.placeCall({
        from: cid.number || 'anonymous',
        to,
        name: cid.name,
        app: stasisApp,
        context: msg.get('context') ?? 'phoneim-inbound',
      });
    } catch (e) {
      if (!isAppError(e)) throw e;
      reply('Error', [['Message', 'Originate failed']]);
      return;
    }
    reply('Success', [['Message', 'Originate successfully queued']]);
    this.write(s, [
      ['Event', 'OriginateResponse'],
      ['Privilege', 'call,all'],
      ...id,
      ['Response', 'Success'],
      ['Channel', channel],
      ['Context', msg.get('context') ?? ''],
      ['Exten', to],
      ['Reason', 4],
    ]);
  }

  /** A hint's fields: its state is its device's (a virtual phone nobody used yet is idle). */
  private hintFields(key: string, device: string): [string, string | number][] {
    const [exten = '', context = ''] = key.split('@');
    const [status, text] = EXTENSION_STATUS[this.sw.deviceStates.get(device) ?? 'NOT_INUSE'] ?? [-1, 'Unknown'];
    return [
      ['Exten', exten],
      ['Context', context],
      ['Hint', device],
      ['Status', status],
      ['StatusText', text],
    ];
  }

  private deviceChanged(device: string, state: string): void {
    const events: [string, string | number][][] = [
      [
        ['Event', 'DeviceStateChange'],
        ['Privilege', 'call,all'],
        ['Device', device],
        ['State', state],
      ],
    ];
    for (const [key, hinted] of this.hints)
      if (hinted === device)
        events.push([['Event', 'ExtensionStatus'], ['Privilege', 'call,all'], ...this.hintFields(key, device)]);
    for (const s of this.sessions) if (s.authed && s.events) for (const e of events) this.write(s, e);
  }
}

function parseMessage(raw: string): Map<string, string> {
  const msg = new Map<string, string>();
  for (const line of raw.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    // Repeated keys (Variable: a=1, Variable: b=2) are joined, as Asterisk accepts either form.
    msg.set(key, msg.has(key) ? `${msg.get(key)},${value}` : value);
  }
  return msg;
}
