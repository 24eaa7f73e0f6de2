/**
 * The pager port and its adapter: SNPP (paging carriers), SMPP (SMS
 * centres) and email-to-pager (a pager whose address is a mail gateway: a
 * short plain email, no attachment).
 */
import type { Config } from '../core/config.js';
import type { EmailSender } from './mailer.js';
import type { DeliveryResult } from './ports.js';
import { sendSmppMessage } from './smpp-client.js';
import { SnppPool } from './snpp-client.js';

export interface PageTarget {
  protocol: 'snpp' | 'smpp' | 'email';
  /** Pager id (SNPP), E.164 number (SMPP), or email address. */
  address: string;
}

/** Sends one short page. Never throws for a delivery failure: the result says what happened. */
export interface PagerPort {
  page(target: PageTarget, text: string, ids: { messageId: string; date: Date }): Promise<DeliveryResult>;
  /** Closes kept-open connections; pages sent later may still open new ones or be answered "try later". */
  close?(): void;
}

export class PagerGateway implements PagerPort {
  /** SNPP connections kept open and reused, page after page. */
  private readonly snpp: SnppPool;

  constructor(
    private readonly config: Config['notify'],
    private readonly email: EmailSender,
  ) {
    this.snpp = new SnppPool(config.snpp);
  }

  page(target: PageTarget, text: string, ids: { messageId: string; date: Date }): Promise<DeliveryResult> {
    switch (target.protocol) {
      case 'snpp':
        return this.snpp.page(target.address, text);
      case 'smpp':
        return sendSmppMessage(this.config.smpp, target.address, text);
      case 'email':
        return this.email.send({ to: target.address, subject: 'Page', text: `${text}\n`, ...ids });
    }
  }

  close(): void {
    this.snpp.close();
  }
}
