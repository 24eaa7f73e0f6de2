/**
 * The community's own Ed25519 key pair: made on first start, kept in the data
 * directory as a PKCS#8 PEM file readable by its owner only (0600). Peers know
 * us by the public key (SPKI DER, base64) that `phonectl peer whoami` prints.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';

export interface CommunityKey {
  privateKey: KeyObject;
  /** SPKI DER, base64: what peers store. */
  publicKey: string;
}

export const KEY_FILE = 'federation-key.pem';

export function loadOrCreateKey(dataDir: string): CommunityKey {
  const dir = resolve(dataDir);
  const path = join(dir, KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    // 'wx': never overwrite a key another process wrote meanwhile.
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  chmodSync(path, 0o600);
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new AppError('CORE_CONFIG_INVALID', `${path} is not an Ed25519 private key`);
  return { privateKey, publicKey: publicKeyText(createPublicKey(privateKey)) };
}

export function publicKeyText(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** A peer's public key from its text form; throws FEDERATION_INVALID_INPUT when it is not an Ed25519 key. */
export function parsePublicKey(text: unknown): KeyObject {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/=]{20,200}$/.test(text))
    throw new AppError('FEDERATION_INVALID_INPUT', 'the key must be an Ed25519 public key in base64 (peer whoami)');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new AppError('FEDERATION_INVALID_INPUT', 'the key is not a public key in base64 (peer whoami)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AppError('FEDERATION_INVALID_INPUT', 'the key is not Ed25519');
  return key;
}
