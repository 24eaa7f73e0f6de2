/**
 * Email through nodemailer over SMTP. Every header value that carries user
 * text (display names, the subject) is reduced to one line first; the
 * recipient address comes from the device registry, which validated it.
 * An SMTP 5xx is a permanent failure, anything else (no connection, 4xx,
 * timeout) is "try later".
 *
 * The pool's connections are opened here, with Nagle's algorithm off:
 * nodemailer writes a mail's body and then its closing "." line as two
 * writes, and with Nagle on the kernel holds that last small line until the
 * relay acknowledges the body, which a relay delays (delayed ACK, about
 * 40 ms) since it is waiting for the rest. Each mail then took some 40 ms
 * per connection, whatever the relay's speed.
 */
import { connect, type Socket } from 'node:net';
import { createTransport, type Transporter } from 'nodemailer';
import type { Config } from '../core/config.js';
import { oneLine } from './compose.js';
import type { DeliveryResult } from './ports.js';

export interface OutgoingEmail {
  to: string;
  /** Shown as the From display name before the configured address ("Alice via Phone IM"). */
  fromName?: string | undefined;
  subject: string;
  text: string;
  /** A Message-ID unique to the step, so a receiving system can spot a resend. */
  messageId: string;
  date: Date;
  attachments?: { filename: string; content: Buffer; contentType: string }[];
}

export interface EmailSender {
  send(mail: OutgoingEmail): Promise<DeliveryResult>;
  close(): void;
}

/** Parses 'Name <addr>' or 'addr' from config. */
function splitFrom(from: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  if (m) return { name: oneLine((m[1] ?? '').replace(/^"|"$/g, ''), 80), address: m[2] as string };
  return { name: '', address: from.trim() };
}

// Failures that happen before the relay can have taken the message: safe to try again.
const NEVER_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|Greeting never received/;

/**
 * Maps a nodemailer error to a delivery result. 5xx: refused for good. 4xx,
 * or no connection at all: try later. A connection that dropped or timed
 * out in mid-session may have dropped after the relay took the message
 * (nodemailer cannot tell which phase), so it is not retried: at most once.
 */
export function smtpResult(e: unknown): DeliveryResult {
  const x = e as { responseCode?: number; code?: string; message?: string; response?: string };
  const detail = oneLine(`smtp: ${x.response ?? x.message ?? String(e)}`, 300);
  if (typeof x.responseCode === 'number' && x.responseCode >= 500 && x.responseCode < 600)
    return { status: 'failed', code: 'NOTIFY_SMTP_REJECTED', detail };
  if (typeof x.responseCode === 'number' && x.responseCode >= 400)
    return { status: 'retry', code: 'NOTIFY_SMTP_UNAVAILABLE', detail };
  if (NEVER_SENT.test(`${x.message ?? ''}`)) return { status: 'retry', code: 'NOTIFY_SMTP_UNAVAILABLE', detail };
  return { status: 'failed', code: 'NOTIFY_SMTP_UNAVAILABLE', detail: `${detail} (may have been sent: not retried)` };
}

/**
 * Opens a TCP connection to the relay with Nagle's algorithm off (TLS, when
 * asked for, is put over it by nodemailer). Gives up after `timeoutMs`.
 */
export function openSmtpSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, keepAlive: true });
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error(`Connection timeout (${host}:${port})`), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}

export class SmtpSender implements EmailSender {
  private readonly transport: Transporter;
  private readonly from: { name: string; address: string };

  constructor(smtp: Config['notify']['smtp']) {
    this.from = splitFrom(smtp.from);
    this.transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      pool: true,
      getSocket: (_options, callback) => {
        openSmtpSocket(smtp.host, smtp.port, smtp.timeoutMs).then(
          (connection) => callback(null, { connection }),
          (e: Error) => callback(e, undefined),
        );
      },
      maxConnections: smtp.maxConnections,
      maxMessages: smtp.maxMessages,
      connectionTimeout: smtp.timeoutMs,
      greetingTimeout: smtp.timeoutMs,
      socketTimeout: smtp.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    });
  }

  async send(mail: OutgoingEmail): Promise<DeliveryResult> {
    const name = mail.fromName ? oneLine(mail.fromName, 80) : this.from.name;
    try {
      const info = await this.transport.sendMail({
        from: { name, address: this.from.address },
        to: mail.to,
        subject: oneLine(mail.subject, 200),
        text: mail.text,
        messageId: mail.messageId,
        date: mail.date,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        attachments: (mail.attachments ?? []).map((a) => ({
          filename: oneLine(a.filename, 100).replace(/[/\\"]/g, '_'),
          content: a.content,
          contentType: a.contentType,
        })),
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return { status: 'delivered', detail: oneLine(`smtp: ${info.response}`, 300) };
    } catch (e) {
      return smtpResult(e);
    }
  }

  close(): void {
    this.transport.close();
  }
}
