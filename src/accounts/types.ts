export interface User {
  id: number;
  username: string;
  /** Digits a caller from an unknown phone keys in before the PIN. */
  accountNumber: string;
  displayName: string;
  /** What the speech engine says for this user ("Bob Smith"). */
  spokenName: string;
  /** IANA time zone, for envelopes and quiet hours. */
  timeZone: string;
  /** BCP 47 language the platform speaks and writes to this user in; absent: the community's default. */
  language?: string;
  createdAt: number;
}

export type DeviceKind = 'phone' | 'pager' | 'email';
export type PagerProtocol = 'snpp' | 'smpp' | 'email';

export interface Device {
  id: number;
  userId: number;
  kind: DeviceKind;
  address: string;
  protocol: PagerProtocol | null;
  label: string | null;
  /** 1-based order in the escalation ladder. */
  position: number;
  /** 'HH:MM' in the user's time zone; both set or both null. */
  quietStart: string | null;
  quietEnd: string | null;
  /**
   * Phones only: the Asterisk device ('PJSIP/bob-desk') or hint
   * ('201@phoneim-hints') whose state AMI reports; in a call = "on the phone".
   */
  asteriskDevice: string | null;
}

export type CredentialKind = 'pin' | 'password';

export type LogonFailure =
  /** The caller ID is bound to nobody: ask for the account number. */
  | { ok: false; reason: 'unknown-caller' }
  | { ok: false; reason: 'bad-credentials'; triesLeft: number }
  | { ok: false; reason: 'locked'; lockedUntil: number };

export type LogonResult = { ok: true; user: User } | LogonFailure;
