/** An XMPP user for gateway tests and the benchmark: an @xmpp/client session that keeps what it receives. */
import { type Client, client, xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { COMPONENT_DOMAIN, type Prosody, XMPP_HOST, XMPP_PASSWORD } from './prosody.js';

export { xml };

export class XmppUser {
  readonly stanzas: Element[] = [];
  private waiters: { pred: (s: Element) => boolean; resolve: (s: Element) => void }[] = [];
  /** Subscription requests are approved (like a client whose user clicks yes). */
  approveSubscriptions = true;

  private constructor(
    readonly xmpp: Client,
    readonly jid: string,
  ) {
    xmpp.on('stanza', (s: Element) => {
      this.stanzas.push(s);
      if (this.approveSubscriptions && s.name === 'presence' && s.attrs.type === 'subscribe')
        void xmpp.send(xml('presence', { type: 'subscribed', to: s.attrs.from }));
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(s)) return true;
        w.resolve(s);
        return false;
      });
    });
    xmpp.on('error', () => {});
  }

  /** Logs on as <name>@example.test and sends initial presence. */
  static async connect(prosody: Prosody, name: string, opts: { presence?: boolean } = {}): Promise<XmppUser> {
    const xmpp = client({
      service: `xmpp://127.0.0.1:${prosody.c2sPort}`,
      domain: XMPP_HOST,
      username: name,
      password: XMPP_PASSWORD,
      resource: 'test',
    });
    xmpp.reconnect.stop();
    const u = new XmppUser(xmpp, `${name}@${XMPP_HOST}`);
    await xmpp.start();
    // A client that fetched its roster is "interested": Prosody gives it subscription answers.
    await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    if (opts.presence !== false) await xmpp.send(xml('presence', {}));
    return u;
  }

  /** The first stanza (received already or to come) that matches. */
  next(pred: (s: Element) => boolean, timeoutMs = 15_000): Promise<Element> {
    const have = this.stanzas.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for a stanza; got ${this.stanzas.slice(-8).join(' ')}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
    });
  }

  /** Messages with a body received so far, from a JID. */
  bodiesFrom(from: string): string[] {
    return this.stanzas
      .filter((s) => s.name === 'message' && s.attrs.from?.split('/')[0] === from && s.getChildText('body') !== null)
      .map((s) => s.getChildText('body') as string);
  }

  send(el: Element): Promise<void> {
    return this.xmpp.send(el);
  }

  chat(to: string, body: string, extra: Element[] = [], id?: string): Promise<void> {
    return this.send(xml('message', { type: 'chat', to, ...(id ? { id } : {}) }, xml('body', {}, body), ...extra));
  }

  async stop(): Promise<void> {
    await Promise.race([this.xmpp.stop().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
  }
}

export const jidOn = (local: string) => `${local}@${COMPONENT_DOMAIN}`;

/** The platform's `gateway` config section for a gateway to this Prosody. */
export function gatewaySection(prosody: Prosody, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    xmpp: {
      host: '127.0.0.1',
      port: prosody.componentPort,
      domain: COMPONENT_DOMAIN,
      secret: 'component-secret-for-tests',
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
      ...extra,
    },
  };
}
