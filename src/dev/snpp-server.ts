/**
 * A small SNPP server (RFC 1861, level 1 and the DATA command of level 2)
 * that keeps the pages it is sent: the demo's stand-in for a paging carrier,
 * so a page can be seen in the dev mailbox. Rules:
 * - a page needs a pager id (PAGE) and a message (MESS or DATA); SEND
 *   delivers it and starts over; RESE forgets both; QUIT says goodbye;
 * - a command it does not know, or one of level 2/3 it does not offer, is
 *   refused with 500 and the session goes on;
 * - a line over 1,000 characters or 60 s of silence ends the session
 *   (421), so no client can hold or fill it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { listenOn } from '../core/net.js';

export interface ReceivedPage {
  pagerId: string;
  text: string;
  at: number;
}

const MAX_LINE_CHARS = 1000;
const MAX_DATA_CHARS = 16_000;
const IDLE_MS = 60_000;
const PAGER_ID = /^[A-Za-z0-9_.-]{1,32}$/;

export class SnppServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly onPage: (page: ReceivedPage) => void) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    socket.setTimeout(IDLE_MS, () => bye('421 Timeout, Goodbye'));
    const say = (line: string) => socket.write(`${line}\r\n`);
    const bye = (line: string) => {
      socket.end(`${line}\r\n`);
      socket.destroySoon();
    };
    let pagerId: string | undefined;
    let message: string | undefined;
    let data: string[] | undefined;
    let buffer = '';

    const command = (line: string) => {
      if (data) {
        if (line === '.') {
          message = data.join('\n');
          data = undefined;
          say('250 Message OK');
        } else {
          data.push(line.startsWith('..') ? line.slice(1) : line);
          if (data.join('\n').length > MAX_DATA_CHARS) bye('550 Message too long, Goodbye');
        }
        return;
      }
      const m = /^(\S+)\s*(.*)$/.exec(line);
      const verb = (m?.[1] ?? '').toUpperCase();
      const arg = (m?.[2] ?? '').trim();
      switch (verb) {
        case 'PAGE': {
          const id = arg.split(/\s+/)[0] ?? '';
          if (!PAGER_ID.test(id)) return say('550 Error, Invalid Pager ID');
          pagerId = id;
          return say('250 Pager ID Accepted');
        }
        case 'MESS':
          if (message !== undefined) return say('503 Error, Message Already Entered');
          if (arg === '') return say('550 Error, Invalid Message');
          message = arg;
          return say('250 Message OK');
        case 'DATA':
          if (message !== undefined) return say('503 Error, Message Already Entered');
          data = [];
          return say("354 Begin Input; End with <CRLF>'.'<CRLF>");
        case 'SEND':
          if (pagerId === undefined || message === undefined) return say('503 Error, Pager ID or Message Incomplete');
          this.onPage({ pagerId, text: message, at: Date.now() });
          pagerId = undefined;
          message = undefined;
          return say('250 Message Sent Successfully');
        case 'RESE':
          pagerId = undefined;
          message = undefined;
          return say('250 RESET OK');
        case 'HELP':
          say('214 PAGE <pager id>, MESS <message>, DATA, SEND, RESE, HELP, QUIT');
          return say('250 End of Help Information');
        case 'QUIT':
          return bye('221 OK, Goodbye');
        default:
          return say('500 Command Not Implemented, Try Again');
      }
    };

    say('220 Phone IM demo SNPP server (RFC 1861) ready');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\n');
        if (end < 0) break;
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line.length > MAX_LINE_CHARS) return bye('550 Line too long, Goodbye');
        command(line);
        if (socket.destroyed || socket.writableEnded) return;
      }
      if (buffer.length > MAX_LINE_CHARS) bye('550 Line too long, Goodbye');
    });
  }
}
