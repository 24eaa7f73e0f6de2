/**
 * The demo's captured mailbox and pager log (as maildev or mailpit give a
 * developer): an SMTP server and an SNPP server on loopback that keep what
 * the notifier sends, and a small web page that shows it. Only `make run`
 * (config.demo) starts it, and only for the servers the config leaves at
 * their defaults, so a configured relay or carrier is never bypassed.
 * What it keeps is bounded (devMailbox.maxMessages each of mail and pages,
 * oldest dropped) and lives in memory only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { listenOn, portError } from '../core/net.js';
import { mailPage, mailboxPage, notFoundPage } from './mailbox-page.js';
import { type ReceivedPage, SnppServer } from './snpp-server.js';

export interface CapturedAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface CapturedMail {
  id: number;
  at: number;
  from: string;
  to: string[];
  subject: string;
  date: string | undefined;
  text: string;
  attachments: CapturedAttachment[];
}

export interface CapturedPage extends ReceivedPage {
  id: number;
}

const MAX_MAIL_BYTES = 25 * 1024 * 1024;

export class DevMailbox {
  readonly mails: CapturedMail[] = [];
  readonly pages: CapturedPage[] = [];
  private nextId = 1;
  private readonly smtp: SMTPServer;
  private readonly snpp: SnppServer;
  private readonly http: Server;
  private readonly host: string;
  smtpPort = 0;
  snppPort = 0;
  httpPort = 0;

  constructor(
    private readonly config: Config['devMailbox'],
    private readonly log: Logger,
  ) {
    this.host = config.host;
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: MAX_MAIL_BYTES,
      maxClients: 20,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            callback(Object.assign(new Error('Message too big for the demo mailbox'), { responseCode: 552 }));
            return;
          }
          simpleParser(Buffer.concat(chunks))
            .then((m) => {
              this.keepMail(
                m,
                session.envelope.rcptTo.map((r) => r.address),
              );
              callback();
            })
            .catch((e: Error) => callback(Object.assign(e, { responseCode: 554 })));
        });
      },
    });
    this.smtp.on('error', (err) => this.log.warn({ err }, 'demo mailbox: SMTP session failed'));
    this.snpp = new SnppServer((page) => this.keepPage(page));
    this.http = createServer((req, res) => this.serve(req, res));
  }

  /** Starts the SMTP and SNPP servers (any free port) and the web page (devMailbox.port). */
  async start(): Promise<this> {
    this.smtpPort = await listenOn(this.smtp.server, 0, this.host);
    this.snppPort = await this.snpp.listen(0, this.host);
    try {
      this.httpPort = await listenOn(this.http, this.config.port, this.host);
    } catch (e) {
      await this.close();
      throw portError(e, 'devMailbox.port');
    }
    return this;
  }

  get url(): string {
    return `http://${this.host}:${this.httpPort}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.smtp.close(() => r()));
    await this.snpp.close();
    if (this.http.listening) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http.close(() => r()));
    }
  }

  private keepMail(m: ParsedMail, rcptTo: string[]): void {
    const from = m.from?.text ?? '';
    this.mails.push({
      id: this.nextId++,
      at: Date.now(),
      from,
      to: rcptTo,
      subject: m.subject ?? '',
      date: m.date?.toISOString(),
      text: m.text ?? '',
      attachments: m.attachments.map((a, i) => ({
        filename: a.filename ?? `attachment-${i + 1}`,
        contentType: a.contentType,
        content: a.content,
      })),
    });
    if (this.mails.length > this.config.maxMessages) this.mails.shift();
    this.log.info({ to: rcptTo, url: this.url }, 'demo mailbox: mail received');
  }

  private keepPage(page: ReceivedPage): void {
    this.pages.push({ ...page, id: this.nextId++ });
    if (this.pages.length > this.config.maxMessages) this.pages.shift();
    this.log.info({ pager: page.pagerId, url: this.url }, 'demo mailbox: page received');
  }

  private serve(req: IncomingMessage, res: ServerResponse) {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': type,
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        ...extra,
      });
      res.end(body);
    };
    const html = 'text/html; charset=utf-8';
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, html, notFoundPage('Only GET is served here.'));
    const path = new URL(req.url ?? '/', 'http://mailbox').pathname;
    if (path === '/') return send(200, html, mailboxPage([...this.mails].reverse(), [...this.pages].reverse()));
    const mail = /^\/mail\/(\d{1,9})$/.exec(path);
    const att = /^\/mail\/(\d{1,9})\/attachments\/(\d{1,4})$/.exec(path);
    const found = this.mails.find((m) => m.id === Number((mail ?? att)?.[1]));
    if (mail && found) return send(200, html, mailPage(found));
    const a = att && found ? found.attachments[Number(att[2])] : undefined;
    if (a) {
      const ascii = a.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
      return send(200, a.contentType.replace(/[\r\n]/g, ''), a.content, {
        'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(a.filename)}`,
      });
    }
    return send(404, html, notFoundPage('No such mail or attachment (the mailbox keeps only recent ones).'));
  }
}

/**
 * Demo mode: starts the mailbox when the config leaves notify.smtp or
 * notify.snpp at their defaults (nothing else configured), and returns the
 * config with the notifier pointed at it. Otherwise returns the config as it was.
 */
export async function startDemoMailbox(
  config: Config,
  log: Logger,
): Promise<{ config: Config; mailbox: DevMailbox | undefined }> {
  const { smtp, snpp } = config.notify;
  const smtpUnset = smtp.host === '127.0.0.1' && smtp.port === 25 && smtp.user === undefined;
  const snppUnset = snpp.host === '127.0.0.1' && snpp.port === 444;
  if (!config.demo || (!smtpUnset && !snppUnset)) return { config, mailbox: undefined };
  const mailbox = await new DevMailbox(config.devMailbox, log.child({ part: 'dev-mailbox' })).start();
  const host = config.devMailbox.host;
  return {
    mailbox,
    config: {
      ...config,
      notify: {
        ...config.notify,
        smtp: smtpUnset ? { ...smtp, host, port: mailbox.smtpPort, secure: false } : smtp,
        snpp: snppUnset ? { ...snpp, host, port: mailbox.snppPort } : snpp,
      },
    },
  };
}
