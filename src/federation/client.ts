/** Signed requests to peers (the PeerClient of outbox.ts): a peer's failure becomes our own coded error. */
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { CommunityKey } from './keys.js';
import type { PeerClient } from './outbox.js';
import type { Peer } from './ports.js';
import { signRequest } from './signing.js';

export function peerClient(opts: { key: CommunityKey; keyId: string; clock: Clock; timeoutMs: number }): PeerClient {
  return {
    async post(peer: Peer, path: string, body: unknown): Promise<unknown> {
      const url = `${peer.baseUrl}${path}`;
      const text = JSON.stringify(body);
      const headers = await signRequest({
        method: 'POST',
        url,
        body: text,
        keyId: opts.keyId,
        privateKey: opts.key.privateKey,
        now: opts.clock.now(),
      });
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(opts.timeoutMs) });
      } catch (e) {
        throw new AppError('FEDERATION_PEER_UNREACHABLE', `${peer.name} did not answer (${(e as Error).message})`, {
          peer: peer.name,
        });
      }
      const answer = await res.text().catch(() => '');
      let parsed: unknown = null;
      try {
        parsed = answer ? JSON.parse(answer) : null;
      } catch {
        parsed = null;
      }
      if (res.ok) return parsed;
      const err = (parsed as { error?: { code?: unknown; details?: { eventId?: unknown } } } | null)?.error;
      const peerCode = typeof err?.code === 'string' ? err.code.slice(0, 64) : undefined;
      const eventId = typeof err?.details?.eventId === 'string' ? err.details.eventId : undefined;
      if (res.status >= 500)
        throw new AppError('FEDERATION_PEER_UNREACHABLE', `${peer.name} failed (${res.status} ${peerCode ?? ''})`, {
          peer: peer.name,
          status: res.status,
        });
      throw new AppError(
        'FEDERATION_PEER_REFUSED',
        `${peer.name} refused the request (${res.status} ${peerCode ?? ''})`,
        {
          peer: peer.name,
          status: res.status,
          ...(peerCode ? { peerCode } : {}),
          ...(eventId ? { eventId } : {}),
        },
      );
    },
  };
}
