/**
 * The accounts tables' rows as both backends read them, and their mapping to
 * the account server's types: one shape, whatever the SQL dialect.
 */
import type { Device, DeviceKind, PagerProtocol, User } from '../../accounts/types.js';

export interface UserRow {
  id: number;
  username: string;
  account_number: string;
  display_name: string;
  spoken_name: string;
  time_zone: string;
  language: string | null;
  created_at: number;
}

export interface DeviceRow {
  id: number;
  user_id: number;
  kind: DeviceKind;
  address: string;
  protocol: PagerProtocol | null;
  label: string | null;
  position: number;
  quiet_start: string | null;
  quiet_end: string | null;
  asterisk_device: string | null;
}

/** Idle rows of logon_tries older than this are forgotten. */
export const TRIES_IDLE_MS = 24 * 3600 * 1000;

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  accountNumber: r.account_number,
  displayName: r.display_name,
  spokenName: r.spoken_name,
  timeZone: r.time_zone,
  ...(r.language ? { language: r.language } : {}),
  createdAt: r.created_at,
});

export const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  address: r.address,
  protocol: r.protocol,
  label: r.label,
  position: r.position,
  quietStart: r.quiet_start,
  quietEnd: r.quiet_end,
  asteriskDevice: r.asterisk_device,
});
