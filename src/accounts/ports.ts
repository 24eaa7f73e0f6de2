/**
 * The storage the account server needs: users, their credentials (hashes
 * only) and log-on tries, caller-ID numbers, and the device registry.
 *
 * Every method is async so that any backend fits (the embedded SQLite file,
 * or PostgreSQL shared by several nodes). Methods that change several rows do
 * so atomically: a reader never sees half of a user or half of a reorder.
 * `src/store/<backend>/` implements this port; nothing here knows SQL.
 */
import type { CredentialKind, Device, DeviceKind, PagerProtocol, User } from './types.js';

/** A stored secret and its lock-out counters. */
export interface CredentialRow {
  /** The secret's hash (never the secret). */
  hash: string;
  failedCount: number;
  lockedUntil: number | null;
}

/** What a new user is stored with: the account, its first credentials and caller IDs. */
export interface NewUserRow {
  username: string;
  accountNumber: string;
  displayName: string;
  spokenName: string;
  timeZone: string;
  createdAt: number;
  credentials: { kind: CredentialKind; hash: string }[];
  callerIds: string[];
}

/** A device as the registry adds it (checked by device-registry.ts); its position is the next free one. */
export interface NewDeviceRow {
  kind: DeviceKind;
  address: string;
  protocol: PagerProtocol | null;
  label: string | null;
  quietStart: string | null;
  quietEnd: string | null;
  asteriskDevice: string | null;
}

/** The fields of a device that may change after it is added (those given are set). */
export type DevicePatch = Partial<Pick<NewDeviceRow, 'label' | 'quietStart' | 'quietEnd' | 'asteriskDevice'>>;

/** The fields of a user that may change after the account is made (those given are set). */
export type UserPatch = Partial<Pick<User, 'displayName' | 'spokenName' | 'timeZone'>>;

/** What reserving a log-on try answered: refused while locked, or a try to check. */
export type TryReservation =
  | { ok: false; lockedUntil: number }
  | { ok: true; failedCount: number; lockedUntil: number | null };

/**
 * Whose tries a reservation counts: a user's credential of a kind, or a key
 * of tries that name no user yet (an unknown account number, a caller ID).
 */
export type TryTarget = { userId: number; kind: CredentialKind } | { key: string };

/** The account server's storage port. */
export interface AccountStore {
  // ---- users ----------------------------------------------------------------

  /**
   * Stores a user with its credentials and caller IDs, all or nothing.
   * Rejects with AppError ACCOUNTS_USER_EXISTS when the username or account
   * number is taken, ACCOUNTS_CALLER_ID_TAKEN when a caller ID is bound
   * (the service checks first; this is the race lost to another writer).
   */
  insertUser(row: NewUserRow): Promise<User>;
  userById(id: number): Promise<User | null>;
  /** By the lower-case username. */
  userByUsername(username: string): Promise<User | null>;
  userByAccountNumber(accountNumber: string): Promise<User | null>;
  /** The user a normalised caller-ID number is bound to. */
  userByCallerId(number: string): Promise<User | null>;
  /** Every user, by username. */
  listUsers(): Promise<User[]>;
  accountNumberTaken(accountNumber: string): Promise<boolean>;
  /** Deletes the user and everything that hangs off it (credentials, caller IDs, devices); false when absent. */
  deleteUser(id: number): Promise<boolean>;
  /** Sets the fields given; an unknown id changes nothing. */
  updateUser(id: number, fields: UserPatch): Promise<void>;
  /** Sets (or, with null, clears: the community's default) a user's language; false when the user is absent. */
  setLanguage(id: number, language: string | null): Promise<boolean>;
  /**
   * A number that changes whenever what a resume token stands for may have
   * changed: a user's row changed or went, a session object ended (log-out,
   * password change, idle expiry) or moved to another node - made by any node
   * or process. Tokens resolved while it read N may be served from memory
   * while it still reads N. One cheap read; never goes back.
   */
  credentialsVersion(): Promise<number>;

  // ---- credentials --------------------------------------------------------------

  credential(userId: number, kind: CredentialKind): Promise<CredentialRow | null>;
  /** Sets a credential's hash and clears its failures and lock. */
  upsertCredential(userId: number, kind: CredentialKind, hash: string, now: number): Promise<void>;
  /**
   * Reserves one try before the secret is checked, atomically, so that however
   * many tries arrive at once (on however many nodes) at most `maxTries` are
   * ever checked per lock-out window. A try counts as failed until a success
   * clears the count (`clearFailures`); the try that reaches `maxTries` locks
   * until `lockUntil`. A `key` target is created on first use, and keys idle
   * for a day (and not locked) are forgotten. A user target with no
   * credential of that kind answers `{ ok: false, lockedUntil: now }`.
   */
  reserveTry(target: TryTarget, now: number, maxTries: number, lockUntil: number): Promise<TryReservation>;
  /** Clears failures and the lock of one credential kind, or of all of the user's. */
  clearFailures(userId: number, kind?: CredentialKind): Promise<void>;

  // ---- caller IDs ---------------------------------------------------------------

  /** Binds a normalised number to a user; rejects with ACCOUNTS_CALLER_ID_TAKEN when it is bound already. */
  insertCallerId(userId: number, number: string, now: number): Promise<void>;
  deleteCallerId(userId: number, number: string): Promise<boolean>;
  /** The id of the user a number is bound to, or null. */
  callerIdOwner(number: string): Promise<number | null>;
  /** A user's numbers, oldest first. */
  callerIds(userId: number): Promise<string[]>;

  // ---- device registry ----------------------------------------------------------------

  /** A user's devices in ladder order (position, then id). */
  devices(userId: number): Promise<Device[]>;
  device(id: number): Promise<Device | null>;
  deviceExists(userId: number, kind: DeviceKind, address: string): Promise<boolean>;
  /** Adds a device at the end of the user's order. */
  insertDevice(userId: number, d: NewDeviceRow, now: number): Promise<Device>;
  /** Changes the fields given of a device. */
  updateDevice(id: number, patch: DevicePatch): Promise<void>;
  /** The phones (of any user) tied to an Asterisk device or hint, by id. */
  phonesOnAsteriskDevice(name: string): Promise<Device[]>;
  /** Removes a user's device and closes the gap in the order; false when the user has no such device. */
  deleteDevice(userId: number, id: number): Promise<boolean>;
  /** Sets the order to `ids` (every device of the user, each once), atomically. */
  reorderDevices(userId: number, ids: number[]): Promise<void>;
}

/** A role a user holds beyond being a user. One for now: `admin`, which opens the operator's view (/admin). */
export type Role = 'admin';

/** Where users' roles are kept (the accounts capability's role port). */
export interface RoleStore {
  /** Whether the user holds the role. */
  has(userId: number, role: Role): Promise<boolean>;
  /** Grants (true) or revokes (false) the role; true when something changed. */
  set(userId: number, role: Role, isGranted: boolean, now: number): Promise<boolean>;
  /** The ids of every user who holds the role, ascending. */
  holders(role: Role): Promise<number[]>;
}
