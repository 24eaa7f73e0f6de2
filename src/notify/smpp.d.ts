/** The part of the `smpp` package (0.5) the notifier and its tests use. */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';

  export interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
  }

  export type PduCallback = (pdu: Pdu) => void;

  export interface Session extends EventEmitter {
    bind_transmitter(options: Record<string, unknown>, cb?: PduCallback): boolean;
    bind_receiver(options: Record<string, unknown>, cb?: PduCallback): boolean;
    deliver_sm(options: Record<string, unknown>, cb?: PduCallback): boolean;
    submit_sm(options: Record<string, unknown>, cb?: PduCallback): boolean;
    unbind(options?: Record<string, unknown>, cb?: PduCallback): boolean;
    send(pdu: Pdu | PduResponse, cb?: PduCallback): boolean;
    pause(): void;
    resume(): void;
    close(cb?: () => void): void;
    destroy(cb?: () => void): void;
  }

  export interface PduResponse {
    command: string;
  }

  export interface PduWithResponse extends Pdu {
    response(options?: Record<string, unknown>): PduResponse;
  }

  export interface Server extends EventEmitter {
    listen(port: number, host: string, cb?: () => void): Server;
    close(cb?: () => void): void;
    address(): { port: number; address: string };
  }

  export function connect(
    options: { host: string; port: number; [k: string]: unknown },
    listener?: () => void,
  ): Session;
  export function createServer(listener: (session: Session) => void): Server;

  const smpp: { connect: typeof connect; createServer: typeof createServer };
  export default smpp;
}
