import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import { AppError } from './errors.js';

/** Starts a server (HTTP or plain TCP) listening; resolves with the bound port (port 0 picks one). */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The environment variable that sets a config key: http.port -> PHONEIM_HTTP__PORT. */
export function envVarOf(key: string): string {
  return `PHONEIM_${key
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('__')}`;
}

/**
 * A listener that cannot bind (the port is taken, or below 1024 for a user)
 * becomes one line that names the config key to change; any other error is
 * returned as it was. `fix` replaces the advice (a command-line flag).
 */
export function portError(e: unknown, key: string, fix = `set ${key} (${envVarOf(key)}) to a free port`): unknown {
  const x = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (x?.code !== 'EADDRINUSE' && x?.code !== 'EACCES') return e;
  const what = x.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
  return new AppError('CORE_PORT_UNAVAILABLE', `${key}: ${x.address}:${x.port} ${what}; ${fix}`, {
    key,
    port: x.port,
  });
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive); undefined otherwise. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

const digestOf = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether a presented secret is the expected one, compared in constant time whatever their lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digestOf(given), digestOf(expected));
}
