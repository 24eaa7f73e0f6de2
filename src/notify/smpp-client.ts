/**
 * An SMPP v3.4 transmitter (the `smpp` package): bind_transmitter, one
 * submit_sm, unbind, per page. A non-zero command_status is a refusal; no
 * connection or no answer in time is "try later", except once submit_sm is
 * on the wire: then the outcome is unknown and the page is not retried.
 */
import smpp from 'smpp';
import type { Config } from '../core/config.js';
import { oneLine } from './compose.js';
import type { DeliveryResult } from './ports.js';

export async function sendSmppMessage(
  o: Config['notify']['smpp'],
  destination: string,
  text: string,
): Promise<DeliveryResult> {
  return new Promise<DeliveryResult>((resolve) => {
    let submitted = false;
    let settled = false;
    const session = smpp.connect({ host: o.host, port: o.port });
    const finish = (r: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const end = () => session.destroy();
      if (r.status === 'delivered') {
        // A polite unbind; the socket is closed either way.
        const t = setTimeout(end, 1000);
        session.unbind({}, () => {
          clearTimeout(t);
          end();
        });
      } else end();
      resolve(r);
    };
    const unavailable = (detail: string): DeliveryResult =>
      submitted
        ? { status: 'failed', code: 'NOTIFY_SMPP_UNAVAILABLE', detail: `${detail} (after submit_sm: not retried)` }
        : { status: 'retry', code: 'NOTIFY_SMPP_UNAVAILABLE', detail };
    const timer = setTimeout(() => finish(unavailable(`smpp: no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    session.on('error', (e: Error) => finish(unavailable(`smpp: ${oneLine(e.message, 200)}`)));
    session.on('close', () => finish(unavailable('smpp: connection closed')));
    session.on('connect', () => {
      session.bind_transmitter({ system_id: o.systemId, password: o.password }, (bind) => {
        if (bind.command_status !== 0) {
          finish({
            status: 'failed',
            code: 'NOTIFY_SMPP_REJECTED',
            detail: `smpp: bind_transmitter refused (status ${bind.command_status})`,
          });
          return;
        }
        submitted = true;
        session.submit_sm(
          {
            source_addr: o.sourceAddr,
            source_addr_ton: /^\+?\d+$/.test(o.sourceAddr) ? 1 : 5,
            destination_addr: destination.replace(/^\+/, ''),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            short_message: oneLine(text, 160),
          },
          (resp) => {
            if (resp.command_status !== 0)
              finish({
                status: 'failed',
                code: 'NOTIFY_SMPP_REJECTED',
                detail: `smpp: submit_sm refused (status ${resp.command_status})`,
              });
            else finish({ status: 'delivered', detail: `smpp: accepted as ${String(resp['message_id'] ?? '?')}` });
          },
        );
      });
    });
  });
}
