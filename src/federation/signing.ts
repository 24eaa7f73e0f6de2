/**
 * Signed server-to-server requests: HTTP Message Signatures (RFC 9421,
 * Ed25519, through the http-message-signatures library) over the method, the
 * path, the body's Content-Digest (RFC 9530, sha-256), the Date and a nonce;
 * the key id is the signing community's domain.
 *
 * The receiver checks, in this order, and refuses with 401 at the first that
 * fails: a signature is there; its key id names an active peer; the Date and
 * the signature's creation time are within the allowed skew; the signature
 * verifies with that peer's key; the body matches its digest; the nonce was
 * never seen (it is remembered for twice the skew). Only then is the body read.
 */
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { httpbis, createSigner, createVerifier } from 'http-message-signatures';
import { AppError } from '../core/errors.js';

export const SIGNED_FIELDS = ['@method', '@path', 'content-digest', 'date'];
const SIGNED_PARAMS = ['created', 'keyid', 'alg', 'nonce'];

export function contentDigest(body: Buffer | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/** The headers of a signed request (date, content-digest, signature-input, signature, content-type). */
export async function signRequest(opts: {
  method: string;
  url: string;
  body: string;
  keyId: string;
  privateKey: KeyObject;
  now: number;
  nonce?: string;
}): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    date: new Date(opts.now).toUTCString(),
    'content-digest': contentDigest(opts.body),
  };
  const signed = await httpbis.signMessage(
    {
      key: createSigner(opts.privateKey, 'ed25519', opts.keyId),
      fields: SIGNED_FIELDS,
      params: SIGNED_PARAMS,
      paramValues: { created: new Date(opts.now), nonce: opts.nonce ?? randomBytes(16).toString('base64url') },
    },
    { method: opts.method, url: opts.url, headers },
  );
  return signed.headers as Record<string, string>;
}

export interface VerifiedRequest {
  peer: string;
  nonce: string;
}

export interface VerifyDeps {
  /** The active peer's public key by name, or null. */
  keyOf(peer: string): Promise<KeyObject | null>;
  /** Records a nonce; false when already seen. */
  claimNonce(peer: string, nonce: string, expiresAt: number): Promise<boolean>;
  now: number;
  maxSkewSeconds: number;
}

const header = (h: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Checks a request's signature, date, digest and nonce; throws a FEDERATION_* AppError (401) on the first failure. */
export async function verifyRequest(
  req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  deps: VerifyDeps,
): Promise<VerifiedRequest> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = v;
  if (!header(headers, 'signature') || !header(headers, 'signature-input'))
    throw new AppError('FEDERATION_SIGNATURE_MISSING', 'the request is not signed');
  const dateText = header(headers, 'date');
  const date = dateText ? Date.parse(dateText) : Number.NaN;
  if (!Number.isFinite(date) || Math.abs(deps.now - date) > deps.maxSkewSeconds * 1000)
    throw new AppError('FEDERATION_STALE_DATE', 'the Date header is missing or too far from our clock');
  let peer: string | undefined;
  let nonce: string | undefined;
  let created: Date | undefined;
  let ok: boolean | null;
  try {
    ok = await httpbis.verifyMessage(
      {
        async keyLookup(params) {
          peer = typeof params.keyid === 'string' ? params.keyid : undefined;
          nonce = typeof params.nonce === 'string' ? params.nonce : undefined;
          created = params.created instanceof Date ? params.created : undefined;
          const key = peer ? await deps.keyOf(peer) : null;
          if (!key) throw new AppError('FEDERATION_UNKNOWN_PEER', `no active peer named ${JSON.stringify(peer)}`);
          return { id: peer, algs: ['ed25519'], verify: createVerifier(key, 'ed25519') };
        },
        requiredFields: SIGNED_FIELDS,
        requiredParams: ['created', 'keyid', 'nonce'],
        // The skew is checked below against our own clock; the library only rejects what is far out.
        tolerance: deps.maxSkewSeconds,
        maxAge: 2 * deps.maxSkewSeconds,
      },
      { method: req.method, url: new URL(req.url, 'http://peer.invalid'), headers },
    );
  } catch (e) {
    if (e instanceof AppError) throw e;
    const name = (e as Error).name;
    if (name === 'ExpiredError') throw new AppError('FEDERATION_STALE_DATE', 'the signature is too old');
    throw new AppError('FEDERATION_SIGNATURE_INVALID', `the signature is malformed (${(e as Error).message})`);
  }
  if (ok !== true || !peer || !nonce)
    throw new AppError('FEDERATION_SIGNATURE_INVALID', 'the signature does not verify');
  if (!created || Math.abs(deps.now - created.getTime()) > deps.maxSkewSeconds * 1000)
    throw new AppError('FEDERATION_STALE_DATE', 'the signature was created too far from our clock');
  if (header(headers, 'content-digest') !== contentDigest(req.body))
    throw new AppError('FEDERATION_DIGEST_MISMATCH', 'the body does not match its Content-Digest');
  if (nonce.length > 128 || !(await deps.claimNonce(peer, nonce, deps.now + 2 * deps.maxSkewSeconds * 1000)))
    throw new AppError('FEDERATION_NONCE_REPLAYED', 'this request was already received (nonce seen)');
  return { peer, nonce };
}
