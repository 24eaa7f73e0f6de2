/**
 * How the parts talk once built (the composition root's second half):
 * - presence -> notifier: a recipient with no link starts (or joins) an alert;
 *   any link the recipient opens, or reading the message, cancels it. The
 *   intent of that alert is the message's pending delivery, written in the
 *   same transaction as the message: on start, every pending delivery of the
 *   last `notify.recoverHours` that is in no alert yet opens one (a crash
 *   between storing a message and opening its alert loses nothing);
 * - notifier -> presence: a delivered step marks the messages notified; a
 *   declined call-back is told to the sender;
 * - presence -> audio: a message for someone who may hear it by phone is
 *   rendered ahead, so reading it later is a cache hit.
 * - telephony -> presence: an Asterisk device (or hint) in a call puts the
 *   users whose registry names it "on the phone"; idle, unavailable or
 *   unknown lets them go (the links decide again). Ringing alone is not a
 *   call: nobody is on the phone yet.
 * - presence -> notifier: a phone in a call is not called back (lineStateFor).
 * Each reaction is async (the parts read the store); its failure is logged,
 * never thrown back at the part that emitted. Device states are applied one
 * after another, in the order AMI reported them.
 */
import type { AccountService } from './accounts/account-service.js';
import type { Logger } from './core/logger.js';
import type { Notifier } from './notify/notifier.js';
import type { LineStatePort, SenderNoticePort } from './notify/ports.js';
import type { PresenceService } from './presence/presence-service.js';
import type { StoredMessage } from './presence/types.js';
import type { DeviceStateEvent, DeviceStateSource } from './telephony/port.js';

/** Device states in which someone is on that phone. */
const IN_CALL: ReadonlySet<DeviceStateEvent['state']> = new Set(['INUSE', 'BUSY', 'ONHOLD', 'RINGINUSE']);

export interface WiringParts {
  accounts: AccountService;
  presence: PresenceService;
  notifier: Notifier;
  log: Logger;
  /** Device states from AMI; absent: no desk phone shows its user on the phone. */
  deviceStates?: DeviceStateSource | undefined;
  /** How far back pending deliveries are picked up on start (ms), and at most how many. */
  recover?: { sinceMs: number; limit: number; now: number };
  /** Renders what the phone will say for a message (the IVR's envelope and body); absent: nothing is rendered ahead. */
  prerender?: ((message: StoredMessage, recipientId: number) => Promise<void>) | undefined;
  /** A member who stands for a user of another community: reached at home, never alerted here. */
  isRemote?: ((userId: number) => boolean) | undefined;
}

/** A declined call-back: the invitation the recipient had not accepted yet is declined, which tells every member. */
export function senderNoticeFor(presence: PresenceService, log: Logger): SenderNoticePort {
  return {
    async tellSender(notice) {
      const member = (await presence.members(notice.sessionId)).find((m) => m.userId === notice.recipientId);
      if (member?.state === 'invited') await presence.decline(notice.sessionId, notice.recipientId);
      else log.info({ session: notice.sessionId, user: notice.recipientId }, 'call-back declined by a joined member');
    },
  };
}

/** A phone is busy while presence holds its Asterisk device in a call for its user. */
export function lineStateFor(presence: Pick<PresenceService, 'deviceCallsOf'>): LineStatePort {
  return {
    async busyOn(phone) {
      const device = phone.asteriskDevice;
      return device !== null && (await presence.deviceCallsOf(phone.userId)).includes(device) ? device : undefined;
    },
  };
}

/**
 * Connects the parts' hooks and, when asked, opens the alerts of messages
 * stored before a stop; resolves with a function that disconnects them.
 */
export async function connectParts(p: WiringParts): Promise<() => void> {
  const { accounts, presence, notifier, log } = p;
  const failed =
    (what: string, fields: Record<string, unknown> = {}) =>
    (e: unknown) =>
      log.error({ err: e, ...fields }, what);
  const unreachable = async ({ recipientId, message }: { recipientId: number; message: StoredMessage }) => {
    if (p.isRemote?.(recipientId)) return;
    const sender = await accounts.userById(message.fromUserId);
    await notifier.messageUnreachable({
      recipientId,
      message: {
        id: message.id,
        sessionId: message.sessionId,
        fromUserId: message.fromUserId,
        fromName: sender?.displayName ?? 'Someone',
        fromSpokenName: sender?.spokenName ?? 'Someone',
        text: message.text ?? 'a voice message',
        audioId: message.audioId ?? undefined,
        audioUrl: message.audioUrl ?? undefined,
        at: message.createdAt,
      },
    });
  };
  const offs = [
    presence.onUnreachable((e) => {
      unreachable(e).catch(failed('could not start an alert', { message: e.message.id, user: e.recipientId }));
    }),
    presence.onLinkOpened(({ userId, kind }) => {
      notifier
        .recipientActive(userId, { viaPhone: kind === 'phone' })
        .catch(failed('could not stop the alerts of a user who showed up', { user: userId }));
    }),
    presence.onRead(({ userId, messageIds }) => {
      for (const id of messageIds)
        notifier.messageRead(userId, id).catch(failed('could not stop the alert of a read message', { user: userId }));
    }),
    presence.onMessageStored(({ message, recipients }) => {
      const { prerender } = p;
      if (!prerender) return;
      for (const r of recipients)
        (async () => {
          // A phone in the registry, or a caller ID to log on from: the user may call in and hear it.
          const mayHearByPhone = r.hasPhoneLink || (await accounts.mayHearByPhone(r.userId));
          if (mayHearByPhone) await prerender(message, r.userId);
        })().catch(failed('could not render a message ahead', { user: r.userId }));
    }),
  ];
  const states = p.deviceStates;
  if (states) {
    let applied: Promise<void> = Promise.resolve();
    const follow = (e: DeviceStateEvent) => {
      applied = applied
        .then(async () =>
          presence.setDeviceCall(e.device, IN_CALL.has(e.state) ? await accounts.usersOfAsteriskDevice(e.device) : []),
        )
        .catch(failed('could not apply a device state', { device: e.device }));
    };
    offs.push(states.onDeviceState(follow));
    // States heard before this connection (the first list after login) count too.
    for (const [device, state] of states.snapshot()) follow({ device, state });
  }
  if (p.recover) {
    const { sinceMs, limit, now } = p.recover;
    let recovered = 0;
    for (const d of await presence.pendingDeliveries(now - sinceMs, limit))
      if (!(await presence.hasLinkAnywhere(d.recipientId)) && !(await notifier.hasAlerted(d.recipientId, d.message.id)))
        try {
          await unreachable(d);
          recovered++;
        } catch (e) {
          failed('could not start an alert', { message: d.message.id, user: d.recipientId })(e);
        }
    if (recovered > 0) log.warn({ messages: recovered }, 'alerts opened for messages stored before a stop');
  }
  return () => {
    for (const off of offs) off();
  };
}
