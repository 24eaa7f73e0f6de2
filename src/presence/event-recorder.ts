/**
 * A test double for the notifier and the audio server: it records every
 * hook event the presence server emits, in order, so a test can assert on
 * "Bob was unreachable for message 7" without the real notifier.
 */
import type { PresenceService } from './presence-service.js';
import type {
  InvitedEvent,
  LinkOpenedEvent,
  MessageStoredEvent,
  Presence,
  ReadEvent,
  UnreachableEvent,
} from './types.js';

export class PresenceEventRecorder {
  readonly unreachable: UnreachableEvent[] = [];
  readonly linkOpened: LinkOpenedEvent[] = [];
  readonly read: ReadEvent[] = [];
  readonly stored: MessageStoredEvent[] = [];
  readonly presence: Presence[] = [];
  readonly invited: InvitedEvent[] = [];
  private readonly offs: (() => void)[];

  constructor(service: PresenceService) {
    this.offs = [
      service.onUnreachable((e) => this.unreachable.push(e)),
      service.onLinkOpened((e) => this.linkOpened.push(e)),
      service.onRead((e) => this.read.push(e)),
      service.onMessageStored((e) => this.stored.push(e)),
      service.onPresence((e) => this.presence.push(e)),
      service.onInvited((e) => this.invited.push(e)),
    ];
  }

  /** "bob <- hi" lines of the unreachable events, for transcript assertions. */
  unreachableFor(userId: number): string[] {
    return this.unreachable.filter((e) => e.recipientId === userId).map((e) => e.message.text ?? '(voice)');
  }

  detach(): void {
    for (const off of this.offs) off();
  }
}
