/**
 * The account server: says yes or no to every log-on.
 *
 * Rules:
 * - PINs are 4-10 digits (the lower bound is configurable) and never trivial:
 *   one repeated digit, or a straight run up or down (1234, 9876).
 * - Every check of a PIN or password counts against that credential; after
 *   `maxFailedTries` failures in a row it is locked for `lockoutSeconds`, and
 *   while locked nothing is verified. A success resets the count. The try is
 *   reserved in the store before the secret is hashed, so at most
 *   `maxFailedTries` wrong secrets are checked per lock-out window however
 *   many arrive at once.
 * - Known and unknown accounts cannot be told apart: every try costs exactly
 *   one scrypt verification (against a decoy hash for an unknown name, a
 *   missing credential, a locked account or an over-long secret), and an
 *   unknown username or account number counts its failed tries and locks like
 *   a real one, with the same answers ("bad credentials" with the same tries
 *   left, then "locked"). An unknown caller ID answers "unknown-caller": the
 *   IVR then asks for the account number (the caller already knows their own
 *   number is unknown).
 * - Every input is checked before anything is written, and each change is one
 *   transaction: a bad field leaves nothing half-written.
 */
import { randomInt } from 'node:crypto';
import type { Config } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { checkLanguage } from '../core/language.js';
import type { Logger } from '../core/logger.js';
import { type LogonChannel, type Metrics, noMetrics } from '../core/metrics.js';
import { checkText } from '../core/sanitize.js';
import type { AccountStore } from './ports.js';
import { checkDevice, type DeviceInput, deviceDetails } from './device-registry.js';
import { normalizeNumber } from './phone-number.js';
import { decoyHash, hashSecret, verifySecret } from './secrets.js';
import type { CredentialKind, Device, LogonResult, User } from './types.js';

export interface NewUser {
  username: string;
  displayName: string;
  spokenName?: string;
  timeZone?: string;
  accountNumber?: string;
  pin?: string;
  password?: string;
  callerIds?: string[];
}

export interface AccountServiceDeps {
  repo: AccountStore;
  clock: Clock;
  config: Pick<Config, 'accounts' | 'phone'>;
  log: Logger;
  /** Where log-on results are reported. */
  metrics?: Metrics;
  /** The KDF check; tests observe it to count the cost of a try. Default: scrypt (secrets.ts). */
  verifySecret?: (secret: string, stored: string) => Promise<boolean>;
}

/**
 * How long a user's "may hear by phone" answer is kept. This node's own changes
 * (a phone or caller ID added or removed) drop it at once; another node's are
 * seen within this time. It only decides whether messages are rendered ahead.
 */
export const PHONE_REACH_TTL_MS = 30_000;
/** Users whose "may hear by phone" answer is kept (the oldest goes first). */
const PHONE_REACH_MAX = 50_000;

/** The longest password or PIN that is ever checked; longer ones are wrong, at the same cost. */
const MAX_SECRET_CHARS = 256;

/** PIN candidates a prepared check verifies ahead of `#` (each one KDF run); more are verified at `#` only. */
export const MAX_PIN_GUESSES = 4;

/**
 * A caller's PIN check, prepared while the caller keys the PIN (see
 * AccountService.prepareCallerPin). A guess decides nothing and counts as no
 * try: it only lets validate() find the KDF's answer already computed.
 */
export interface PinCheck {
  /** Starts verifying a candidate in the background (once per candidate, at most MAX_PIN_GUESSES). Never throws. */
  guess(pin: string): void;
  /** One try, counted and answered exactly as validateCallerPin answers it. */
  validate(pin: string): Promise<LogonResult>;
}

export function isTrivialPin(pin: string): boolean {
  if (/^(\d)\1*$/.test(pin)) return true;
  const digits = [...pin].map(Number);
  const step = (digits[1] as number) - (digits[0] as number);
  if (step !== 1 && step !== -1) return false;
  return digits.every((d, i) => i === 0 || d - (digits[i - 1] as number) === step);
}

export function checkTimeZone(tz: unknown): string {
  const zone = checkText(tz, { field: 'time zone', maxChars: 64 });
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new AppError('ACCOUNTS_INVALID_INPUT', `time zone "${zone}" is not a known IANA time zone`, {
      field: 'time zone',
    });
  }
  return zone;
}

export class AccountService {
  private readonly repo: AccountStore;
  private readonly clock: Clock;
  private readonly config: AccountServiceDeps['config'];
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private decoy: Promise<string> | undefined;
  /** Per user: whether they may hear messages by phone, and until when that answer holds. */
  private readonly phoneReach = new Map<number, { value: boolean; until: number }>();
  private readonly verify: (secret: string, stored: string) => Promise<boolean>;

  constructor(deps: AccountServiceDeps) {
    this.verify = deps.verifySecret ?? verifySecret;
    this.repo = deps.repo;
    this.clock = deps.clock;
    this.config = deps.config;
    this.log = deps.log;
    this.metrics = deps.metrics ?? noMetrics;
  }

  /** Counts a log-on result (by password or PIN) and passes it on. */
  private counted(channel: LogonChannel, r: LogonResult): LogonResult {
    this.metrics.logon(channel, r.ok ? 'ok' : r.reason);
    return r;
  }

  /** Makes the decoy hash now, so that the first unknown name costs what every later one does. */
  warmUp(): Promise<void> {
    return this.decoyHash().then(() => {});
  }

  // ---- checks -------------------------------------------------------------------

  checkPin(pin: unknown): string {
    if (typeof pin !== 'string' || !/^\d+$/.test(pin))
      throw new AppError('ACCOUNTS_PIN_WEAK', 'a PIN must be digits only', { field: 'PIN' });
    const min = this.config.accounts.minPinLength;
    if (pin.length < min || pin.length > 10)
      throw new AppError('ACCOUNTS_PIN_WEAK', `a PIN must have ${min} to 10 digits`, { field: 'PIN' });
    if (isTrivialPin(pin))
      throw new AppError('ACCOUNTS_PIN_WEAK', 'that PIN is too easy to guess (a repeated digit or a straight run)', {
        field: 'PIN',
      });
    return pin;
  }

  checkPassword(password: unknown): string {
    const min = this.config.accounts.minPasswordLength;
    if (typeof password !== 'string') throw new AppError('ACCOUNTS_PASSWORD_WEAK', 'a password must be text');
    const text = checkText(password, {
      field: 'password',
      maxChars: MAX_SECRET_CHARS,
      code: 'ACCOUNTS_PASSWORD_WEAK',
    });
    if ([...text].length < min)
      throw new AppError('ACCOUNTS_PASSWORD_WEAK', `a password must have at least ${min} characters`);
    return password;
  }

  checkUsername(username: unknown): string {
    const name = checkText(username, { field: 'username', maxChars: 32 }).toLowerCase();
    if (!/^[a-z][a-z0-9._-]{1,31}$/.test(name))
      throw new AppError(
        'ACCOUNTS_INVALID_INPUT',
        'username must be 2-32 characters: a letter, then letters, digits, dot, dash or underscore',
        { field: 'username' },
      );
    return name;
  }

  normalizeNumber(input: unknown): string {
    return normalizeNumber(input, this.config.phone);
  }

  // ---- users ----------------------------------------------------------------------

  async createUser(input: NewUser): Promise<User> {
    const username = this.checkUsername(input.username);
    const displayName = checkText(input.displayName, { field: 'display name', maxChars: 64 });
    const spokenName = checkText(input.spokenName ?? displayName, { field: 'spoken name', maxChars: 100 });
    const timeZone = checkTimeZone(input.timeZone ?? 'UTC');
    const callerIds = [...new Set((input.callerIds ?? []).map((n) => this.normalizeNumber(n)))];
    const pin = input.pin === undefined ? undefined : this.checkPin(input.pin);
    const password = input.password === undefined ? undefined : this.checkPassword(input.password);
    let accountNumber: string;
    if (input.accountNumber !== undefined) {
      accountNumber = checkText(input.accountNumber, { field: 'account number', maxChars: 12 });
      if (!/^\d{4,12}$/.test(accountNumber))
        throw new AppError('ACCOUNTS_INVALID_INPUT', 'account number must be 4-12 digits', { field: 'account number' });
      if (await this.repo.accountNumberTaken(accountNumber))
        throw new AppError('ACCOUNTS_USER_EXISTS', `account number ${accountNumber} is taken`);
    } else accountNumber = await this.freshAccountNumber();
    if (await this.repo.userByUsername(username))
      throw new AppError('ACCOUNTS_USER_EXISTS', `user "${username}" already exists`);
    for (const n of callerIds)
      if ((await this.repo.callerIdOwner(n)) !== null)
        throw new AppError('ACCOUNTS_CALLER_ID_TAKEN', `caller ID ${n} is already bound to another user`);

    const cost = this.config.accounts.kdfCost;
    const credentials: { kind: CredentialKind; hash: string }[] = [];
    if (pin) credentials.push({ kind: 'pin', hash: await hashSecret(pin, cost) });
    if (password) credentials.push({ kind: 'password', hash: await hashSecret(password, cost) });
    // A race lost to another writer rejects with the same conflict codes (the store's promise).
    const user = await this.repo.insertUser({
      username,
      accountNumber,
      displayName,
      spokenName,
      timeZone,
      createdAt: this.clock.now(),
      credentials,
      callerIds,
    });
    this.phoneReach.delete(user.id);
    this.log.info({ user: user.username, accountNumber }, 'user created');
    return user;
  }

  private async freshAccountNumber(): Promise<string> {
    for (;;) {
      const n = String(randomInt(100000, 1000000));
      if (!(await this.repo.accountNumberTaken(n))) return n;
    }
  }

  /** Finds a user by username, account number or numeric id. */
  async findUser(ref: string | number): Promise<User | null> {
    if (typeof ref === 'number') return await this.repo.userById(ref);
    const r = ref.trim();
    return (
      (await this.repo.userByUsername(r.toLowerCase())) ??
      (/^\d+$/.test(r) ? await this.repo.userByAccountNumber(r) : null)
    );
  }

  async getUser(ref: string | number): Promise<User> {
    const user = await this.findUser(ref);
    if (!user) throw new AppError('ACCOUNTS_USER_NOT_FOUND', `no user "${ref}"`);
    return user;
  }

  async userById(id: number): Promise<User | null> {
    return await this.repo.userById(id);
  }

  /** The credentials version (AccountStore.credentialsVersion): what a cache of resolved tokens is checked against. */
  async credentialsVersion(): Promise<number> {
    return await this.repo.credentialsVersion();
  }

  async listUsers(): Promise<User[]> {
    return await this.repo.listUsers();
  }

  async removeUser(ref: string | number): Promise<User> {
    const user = await this.getUser(ref);
    await this.repo.deleteUser(user.id);
    this.phoneReach.delete(user.id);
    this.log.info({ user: user.username }, 'user removed');
    return user;
  }

  async updateUser(
    ref: string | number,
    fields: { displayName?: string; spokenName?: string; timeZone?: string },
  ): Promise<User> {
    const user = await this.getUser(ref);
    const update: { displayName?: string; spokenName?: string; timeZone?: string } = {};
    if (fields.displayName !== undefined)
      update.displayName = checkText(fields.displayName, { field: 'display name', maxChars: 64 });
    if (fields.spokenName !== undefined)
      update.spokenName = checkText(fields.spokenName, { field: 'spoken name', maxChars: 100 });
    if (fields.timeZone !== undefined) update.timeZone = checkTimeZone(fields.timeZone);
    await this.repo.updateUser(user.id, update);
    return await this.getUser(user.id);
  }

  /**
   * Sets the language the platform speaks and writes to the user in (BCP 47,
   * one with a catalogue), or clears it with null: the community's default.
   */
  async setLanguage(ref: string | number, language: string | null): Promise<User> {
    const user = await this.getUser(ref);
    const tag = language === null ? null : checkLanguage(language);
    await this.repo.setLanguage(user.id, tag);
    this.log.info({ user: user.username, language: tag }, 'language set');
    return await this.getUser(user.id);
  }

  async setPin(ref: string | number, pin: string): Promise<void> {
    const user = await this.getUser(ref);
    const checked = this.checkPin(pin);
    await this.repo.upsertCredential(
      user.id,
      'pin',
      await hashSecret(checked, this.config.accounts.kdfCost),
      this.clock.now(),
    );
    this.log.info({ user: user.username }, 'PIN changed');
  }

  async setPassword(ref: string | number, password: string): Promise<void> {
    const user = await this.getUser(ref);
    const checked = this.checkPassword(password);
    await this.repo.upsertCredential(
      user.id,
      'password',
      await hashSecret(checked, this.config.accounts.kdfCost),
      this.clock.now(),
    );
    this.log.info({ user: user.username }, 'password changed');
  }

  async unlock(ref: string | number): Promise<User> {
    const user = await this.getUser(ref);
    await this.repo.clearFailures(user.id);
    this.log.info({ user: user.username }, 'account unlocked');
    return user;
  }

  /** Lock state per credential kind, for admin views. */
  async lockState(
    userId: number,
  ): Promise<{ kind: CredentialKind; isSet: boolean; failedCount: number; lockedUntil: number | null }[]> {
    const now = this.clock.now();
    const out = [];
    for (const kind of ['pin', 'password'] as const) {
      const c = await this.repo.credential(userId, kind);
      const lockedUntil = c?.lockedUntil && c.lockedUntil > now ? c.lockedUntil : null;
      out.push({ kind, isSet: c !== null, failedCount: c?.failedCount ?? 0, lockedUntil });
    }
    return out;
  }

  // ---- caller IDs -------------------------------------------------------------------

  async addCallerId(ref: string | number, number: string): Promise<string> {
    const user = await this.getUser(ref);
    const n = this.normalizeNumber(number);
    const owner = await this.repo.callerIdOwner(n);
    if (owner === user.id) return n;
    if (owner !== null)
      throw new AppError('ACCOUNTS_CALLER_ID_TAKEN', `caller ID ${n} is already bound to another user`);
    await this.repo.insertCallerId(user.id, n, this.clock.now());
    this.phoneReach.delete(user.id);
    return n;
  }

  async removeCallerId(ref: string | number, number: string): Promise<boolean> {
    const user = await this.getUser(ref);
    const removed = await this.repo.deleteCallerId(user.id, this.normalizeNumber(number));
    this.phoneReach.delete(user.id);
    return removed;
  }

  async callerIds(userId: number): Promise<string[]> {
    return await this.repo.callerIds(userId);
  }

  /**
   * Whether the user may hear messages by phone: a phone in the device
   * registry, or a caller ID to log on from. Asked for every recipient of
   * every message (to render it ahead), so the answer is kept for a while
   * (PHONE_REACH_TTL_MS) rather than read each time.
   */
  async mayHearByPhone(userId: number): Promise<boolean> {
    const now = this.clock.now();
    const known = this.phoneReach.get(userId);
    if (known && known.until > now) return known.value;
    const value =
      (await this.repo.devices(userId)).some((d) => d.kind === 'phone') ||
      (await this.repo.callerIds(userId)).length > 0;
    this.phoneReach.delete(userId);
    if (this.phoneReach.size >= PHONE_REACH_MAX) this.phoneReach.delete(this.phoneReach.keys().next().value as number);
    this.phoneReach.set(userId, { value, until: now + PHONE_REACH_TTL_MS });
    return value;
  }

  /** The user a caller ID is bound to, for the IVR's greeting; null when unknown or unusable. */
  async lookupCaller(callerId: string | undefined): Promise<User | null> {
    if (!callerId) return null;
    let n: string;
    try {
      n = this.normalizeNumber(callerId);
    } catch {
      return null;
    }
    return await this.repo.userByCallerId(n);
  }

  // ---- validation -----------------------------------------------------------------

  async validatePassword(username: string, password: string): Promise<LogonResult> {
    let name = typeof username === 'string' ? username.trim().toLowerCase().slice(0, 64) : '';
    let user: User | null = null;
    try {
      name = this.checkUsername(username);
      user = await this.repo.userByUsername(name);
    } catch {
      user = null;
    }
    return this.counted('password', await this.validate(user, 'password', password, `password:${name}`));
  }

  async validateCallerPin(callerId: string, pin: string): Promise<LogonResult> {
    const user = await this.lookupCaller(callerId);
    if (!user) return this.counted('pin', { ok: false, reason: 'unknown-caller' });
    return this.counted('pin', await this.validate(user, 'pin', pin, `pin:user:${user.id}`));
  }

  /**
   * Prepares the PIN check of a caller whose caller ID told who they are
   * (lookupCaller), while they key the PIN: the PIN hash is read now, and
   * candidates the caller keys may be verified ahead (guess) on the KDF's
   * thread pool, so that `#` costs the try's reservation and a lookup. The
   * rules stay those of validateCallerPin: the try is reserved before the
   * answer, the credential is read again at `#` (a PIN changed meanwhile is
   * verified afresh), and a locked credential is never guessed at.
   */
  async prepareCallerPin(user: User): Promise<PinCheck> {
    const cred = await this.repo.credential(user.id, 'pin');
    const min = this.config.accounts.minPinLength;
    const ahead = new Map<string, { hash: string; good: Promise<boolean | undefined> }>();
    const verify = (secret: string, hash: string) => this.verify(secret, hash);
    const isLocked = () => cred?.lockedUntil != null && cred.lockedUntil > this.clock.now();
    let guesses = 0;
    return {
      guess: (pin) => {
        if (!cred || ahead.has(pin) || guesses >= MAX_PIN_GUESSES || isLocked()) return;
        if (!/^\d+$/.test(pin) || pin.length < min || pin.length > 10) return;
        guesses++;
        const hash = cred.hash;
        ahead.set(pin, { hash, good: verify(pin, hash).catch(() => undefined) });
      },
      validate: async (pin) => {
        // A guess answers one try only; a candidate keyed again is verified again.
        const known = (secret: string, hash: string) => {
          const a = ahead.get(secret);
          ahead.delete(secret);
          if (!a || a.hash !== hash) return verify(secret, hash);
          return a.good.then((good) => good ?? verify(secret, hash));
        };
        return this.counted('pin', await this.validate(user, 'pin', pin, `pin:user:${user.id}`, known));
      },
    };
  }

  async validateAccountPin(accountNumber: string, pin: string): Promise<LogonResult> {
    const valid = typeof accountNumber === 'string' && /^\d{1,12}$/.test(accountNumber);
    const user = valid ? await this.repo.userByAccountNumber(accountNumber) : null;
    return this.counted('pin', await this.validate(user, 'pin', pin, `pin:${valid ? accountNumber : '-'}`));
  }

  /**
   * One try: reserve it (or find the lock), then exactly one KDF check - of
   * the real hash when there is one to check, else of the decoy - then the
   * answer. `nameKey` counts the tries of a name with no such credential;
   * `verifyReal` checks against the real hash (a prepared check's answer).
   */
  private async validate(
    user: User | null,
    kind: CredentialKind,
    secret: unknown,
    nameKey: string,
    verifyReal: (secret: string, hash: string) => Promise<boolean> = this.verify,
  ): Promise<LogonResult> {
    const { maxFailedTries, lockoutSeconds } = this.config.accounts;
    const now = this.clock.now();
    const cred = user ? await this.repo.credential(user.id, kind) : null;
    const lockUntil = now + lockoutSeconds * 1000;
    const target = user && cred ? { userId: user.id, kind } : { key: nameKey };
    const reserved = await this.repo.reserveTry(target, now, maxFailedTries, lockUntil);
    const usable = typeof secret === 'string' && secret.length <= MAX_SECRET_CHARS;
    const checked = typeof secret === 'string' ? secret.slice(0, MAX_SECRET_CHARS + 1) : '';
    const real = reserved.ok && usable && cred ? cred.hash : undefined;
    const good = await (real !== undefined ? verifyReal(checked, real) : this.verify(checked, await this.decoyHash()));
    if (!reserved.ok) {
      this.log.info({ user: user?.username, kind }, 'log-on refused: locked');
      return { ok: false, reason: 'locked', lockedUntil: reserved.lockedUntil };
    }
    if (good && real !== undefined && user) {
      await this.repo.clearFailures(user.id, kind);
      this.log.info({ user: user.username, kind }, 'log-on accepted');
      return { ok: true, user };
    }
    if (reserved.lockedUntil !== null) {
      this.log.warn({ user: user?.username, kind, lockedUntil: reserved.lockedUntil }, 'log-on failed: locked out');
      return { ok: false, reason: 'locked', lockedUntil: reserved.lockedUntil };
    }
    this.log.info({ user: user?.username, kind, failedCount: reserved.failedCount }, 'log-on failed');
    return { ok: false, reason: 'bad-credentials', triesLeft: maxFailedTries - reserved.failedCount };
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= decoyHash(this.config.accounts.kdfCost);
    return this.decoy;
  }

  // ---- device registry ----------------------------------------------------------------

  async addDevice(ref: string | number, input: DeviceInput): Promise<Device> {
    const user = await this.getUser(ref);
    const d = checkDevice(input, this.config.phone);
    if (await this.repo.deviceExists(user.id, d.kind, d.address))
      throw new AppError('ACCOUNTS_INVALID_INPUT', `${d.kind} ${d.address} is already registered`, {
        field: 'address',
      });
    const device = await this.repo.insertDevice(user.id, d, this.clock.now());
    this.phoneReach.delete(user.id);
    this.log.info({ user: user.username, device: device.id, kind: device.kind }, 'device added');
    return device;
  }

  /**
   * Changes a device's label, quiet hours or Asterisk device; `null` clears
   * one, `undefined` leaves it as it is.
   */
  async setDevice(
    ref: string | number,
    deviceId: number,
    patch: { label?: string | null; quietHours?: string | null; asteriskDevice?: string | null },
  ): Promise<Device> {
    const user = await this.getUser(ref);
    const device = (await this.repo.devices(user.id)).find((d) => d.id === deviceId);
    if (!device) throw new AppError('ACCOUNTS_DEVICE_NOT_FOUND', `user "${user.username}" has no device ${deviceId}`);
    const row = deviceDetails(device.kind, patch);
    await this.repo.updateDevice(device.id, row);
    this.log.info({ user: user.username, device: device.id, changed: Object.keys(row) }, 'device changed');
    return (await this.repo.device(device.id)) as Device;
  }

  /** The users whose registry ties a phone to this Asterisk device or hint. */
  async usersOfAsteriskDevice(name: string): Promise<number[]> {
    return [...new Set((await this.repo.phonesOnAsteriskDevice(name)).map((d) => d.userId))];
  }

  async listDevices(ref: string | number): Promise<Device[]> {
    return await this.repo.devices((await this.getUser(ref)).id);
  }

  async devicesOf(userId: number): Promise<Device[]> {
    return await this.repo.devices(userId);
  }

  async removeDevice(ref: string | number, deviceId: number): Promise<void> {
    const user = await this.getUser(ref);
    const removed = await this.repo.deleteDevice(user.id, deviceId);
    this.phoneReach.delete(user.id);
    if (!removed) throw new AppError('ACCOUNTS_DEVICE_NOT_FOUND', `user "${user.username}" has no device ${deviceId}`);
  }

  /** Reorders the registry: `ids` must name every device of the user exactly once. */
  async orderDevices(ref: string | number, ids: number[]): Promise<Device[]> {
    const user = await this.getUser(ref);
    const current = (await this.repo.devices(user.id)).map((d) => d.id);
    const given = new Set(ids);
    if (given.size !== ids.length || ids.length !== current.length || !current.every((id) => given.has(id)))
      throw new AppError(
        'ACCOUNTS_INVALID_INPUT',
        `give every device of "${user.username}" once, in the new order (devices: ${current.join(', ') || 'none'})`,
        { field: 'order' },
      );
    await this.repo.reorderDevices(user.id, ids);
    return await this.repo.devices(user.id);
  }
}
