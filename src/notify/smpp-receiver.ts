/**
 * The SMS centre's way back to us: an SMPP v3.4 receiver (the `smpp`
 * package) bound with bind_receiver, handing every mobile-originated
 * deliver_sm to a handler. Rules:
 * - It binds on demand (when a reply code is issued, or at start-up when live
 *   codes remain) and stays bound until stop(); when the SMS centre drops
 *   the bind it binds again after a delay that doubles up to a minute.
 * - Every deliver_sm is acknowledged (deliver_sm_resp) before it is handled;
 *   delivery receipts (esm_class bit 2) are acknowledged and ignored.
 * - Nothing the SMS centre sends can end the process: a malformed PDU closes
 *   the connection, which binds again. Neither the socket nor the rebind
 *   timer keeps a process alive on its own.
 */
import smpp, { type PduWithResponse, type Session } from 'smpp';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';

const MAX_REBIND_MS = 60_000;

export interface InboundSms {
  from: string;
  text: string;
}

/** Text of a short_message as the smpp package decodes it (string, Buffer or { message }). */
export function shortMessageText(sm: unknown): string {
  if (typeof sm === 'string') return sm;
  if (Buffer.isBuffer(sm)) return sm.toString('latin1');
  if (sm && typeof sm === 'object' && 'message' in sm) {
    const m = (sm as { message: unknown }).message;
    return typeof m === 'string' ? m : Buffer.isBuffer(m) ? m.toString('latin1') : '';
  }
  return '';
}

export class SmppReceiver {
  private session: Session | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wanted = false;
  private delay: number;
  /** Binds made (for tests and metrics). */
  binds = 0;
  private bound = false;

  constructor(
    private readonly config: Config['notify']['smpp'],
    private readonly rebindInitialMs: number,
    private readonly handle: (sms: InboundSms) => Promise<unknown>,
    private readonly log: Logger,
  ) {
    this.delay = rebindInitialMs;
  }

  get isBound(): boolean {
    return this.bound;
  }

  /** Binds if not bound yet (and keeps the bind until stop()). */
  ensure(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.connect();
  }

  private connect(): void {
    if (!this.wanted || this.session) return;
    const session = smpp.connect({ host: this.config.host, port: this.config.port });
    // Waiting for replies never keeps a process alive on its own (the admin CLI, a stopped platform).
    (session as unknown as { socket?: { unref?: () => void } }).socket?.unref?.();
    this.session = session;
    let dropped = false;
    const drop = (why: string) => {
      if (dropped) return;
      dropped = true;
      const wasBound = this.bound;
      this.bound = false;
      this.session = null;
      session.destroy();
      if (!this.wanted) return;
      if (wasBound) this.delay = this.rebindInitialMs;
      this.log.warn({ retryMs: this.delay }, `SMPP receiver: ${why}; binding again`);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, this.delay);
      this.timer.unref();
      this.delay = Math.min(MAX_REBIND_MS, this.delay * 2);
    };
    session.on('error', (e: Error) => drop(`error: ${e.message.slice(0, 200)}`));
    session.on('close', () => drop('connection closed'));
    session.on('connect', () => {
      session.bind_receiver({ system_id: this.config.systemId, password: this.config.password }, (pdu) => {
        if (pdu.command_status !== 0) {
          drop(`bind_receiver refused (status ${pdu.command_status})`);
          return;
        }
        this.bound = true;
        this.binds++;
        this.log.info('SMPP receiver bound');
      });
    });
    session.on('enquire_link', (pdu) => {
      session.send((pdu as PduWithResponse).response());
    });
    session.on('unbind', (pdu) => {
      session.send((pdu as PduWithResponse).response());
      drop('the SMS centre unbound');
    });
    session.on('deliver_sm', (pdu) => {
      const p = pdu as PduWithResponse;
      session.send(p.response());
      if ((Number(p['esm_class'] ?? 0) & 0x04) !== 0) return; // a delivery receipt, not a reply
      const sms = { from: String(p['source_addr'] ?? ''), text: shortMessageText(p['short_message']) };
      this.handle(sms).catch((e: unknown) => this.log.error({ err: e }, 'SMPP receiver: handling a reply failed'));
    });
  }

  /** Unbinds and stops binding again. */
  async stop(): Promise<void> {
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const session = this.session;
    this.session = null;
    this.bound = false;
    if (!session) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        session.destroy();
        resolve();
      }, 1000);
      session.removeAllListeners('close');
      session.removeAllListeners('error');
      session.on('error', () => undefined);
      const sent = session.unbind({}, () => {
        clearTimeout(t);
        session.destroy();
        resolve();
      });
      if (!sent) {
        clearTimeout(t);
        session.destroy();
        resolve();
      }
    });
  }
}
