/**
 * An SMTP server in a process of its own, as a real MTA is to the platform:
 * smtp-server on loopback that takes each mail whole (to the end of DATA)
 * and answers 250 without parsing it, the way an MTA queues a mail and
 * parses it later, if ever. The bench forks this file (built, see
 * startSmtpProcess below) and hears each mail's envelope recipients over IPC.
 *
 * Messages out: { type: 'listening', port }, { type: 'mail', rcpt: string[] }.
 * Messages in: { type: 'close' }.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';

export interface SmtpProcess {
  port: number;
  /** Envelope recipients per mail received, in the order they were received. */
  rcpt: string[][];
  close(): Promise<void>;
}

/** Forks this file and waits (at most 10 s) for its port. */
export async function startSmtpProcess(): Promise<SmtpProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['child'], { stdio: 'inherit' });
  const rcpt: string[][] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP process did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`the SMTP process exited (${code})`)));
    child.on('message', (m: { type: string; port?: number; rcpt?: string[] }) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve(m.port as number);
      } else if (m.type === 'mail') rcpt.push(m.rcpt as string[]);
    });
  });
  return {
    port,
    rcpt,
    close: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          r();
        });
        child.send({ type: 'close' });
      }),
  };
}

if (process.argv[2] === 'child') {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    maxClients: 200,
    onData(stream, session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        process.send?.({ type: 'mail', rcpt: session.envelope.rcptTo.map((r) => r.address) });
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'listening', port: (server.server.address() as { port: number }).port });
  });
  // A bench that ends without closing it (it threw) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'close') server.close(() => process.exit(0));
  });
}
