/** The ports the notifier needs from other parts; the composition root passes real ones. */

/** A voice message's audio as an MP3 for an email attachment. The audio file server implements it. */
export interface AudioAttachmentPort {
  /** Throws (any error) when the audio is gone or cannot be transcoded; the email then goes without it. */
  mp3For(audioId: string): Promise<{ filename: string; content: Buffer; durationMs: number }>;
  /** A URL of the audio signed now (stored URLs expire); optional: the stored URL is used otherwise. */
  signedUrl?(audioId: string, format: 'wav'): string;
}

/** Tells a sender something about their message (the recipient declined the call). Presence implements it. */
export interface SenderNoticePort {
  tellSender(notice: {
    senderUserId: number;
    sessionId: string;
    recipientId: number;
    /** A short system message, e.g. "Bob declined your call-back request." */
    text: string;
  }): Promise<void>;
}

/** The result of one delivery attempt by a channel (email, pager). */
export type DeliveryResult =
  | { status: 'delivered'; detail: string }
  /** Try again later (server unreachable, 4xx, timeout). */
  | { status: 'retry'; code: string; detail: string }
  /** Refused for good (5xx, bad address). */
  | { status: 'failed'; code: string; detail: string };

/** Whether a phone of the device registry is in a call now (its Asterisk device, heard over AMI). Presence implements it. */
export interface LineStatePort {
  /** The Asterisk device the phone is busy on, or undefined when it is free or not followed. */
  busyOn(phone: { userId: number; asteriskDevice: string | null }): string | undefined;
}
