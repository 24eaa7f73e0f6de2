/** Raw sockets for the tests that misbehave on purpose: requests a fetch client cannot send, resets mid-answer. */
import { connect, type Socket } from 'node:net';

/**
 * Sends `request` on a new connection to 127.0.0.1:`port`; once the server has
 * answered (first bytes back) the client resets the connection (TCP RST).
 * Resolves with what the server had sent by then.
 */
export function sendThenReset(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer from the server'));
    }, 10_000);
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      clearTimeout(timer);
      // Let the server finish its half of the close first, then reset ours.
      setImmediate(() => {
        socket.resetAndDestroy();
        resolve(got);
      });
    });
  });
}

/** An upgrade request for a WebSocket at `path` (with optional extra header lines). */
export function upgradeRequest(path: string, extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/**
 * Sends raw bytes and reads the whole answer until the server closes, the way
 * a patient client would; resolves with the status line, headers and body.
 */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server neither answered nor closed'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => chunks.push(d));
    const done = (e?: Error) => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      if (e && text === '') reject(e);
      else resolve(text);
    };
    socket.on('error', (e) => done(e));
    socket.on('close', () => done());
  });
}
