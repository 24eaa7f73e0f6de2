/**
 * New messages: "You have N new messages", then each one with its envelope
 * ("From Alice, today at 10:42", in the caller's time zone) and its body - a
 * text spoken by the audio server, or a voice message's own audio. A message
 * counts as read once the caller has heard it or acted on it. Keys (also
 * during the message, which stops it): 1 again, 5 reply, 6 next, 7 delete,
 * 8 chat live in its session, * back to the main menu.
 *
 * Each key costs one playback request: what follows a key ("You have 3 new
 * messages" with the first message and its options; "No more new messages"
 * with the main menu) is one playback, and while a message plays the next
 * one's words are rendered, so that no key waits for a synthesis.
 */
import type { CallContext, Prompt } from '../context.js';
import { MESSAGE_MENU } from '../menus.js';
import type { IvrMessage } from '../ports.js';
import { menu } from '../verbs.js';
import { replyByVoice } from './reply.js';
import type { FlowServices, State } from './types.js';

/** The envelope in the caller's language; a text body in its own language when that can be told. */
export async function messagePrompts(ctx: CallContext, m: IvrMessage, timeZone?: string): Promise<Prompt[]> {
  const tz = timeZone ?? ctx.user?.timeZone ?? 'UTC';
  const say = ctx.phrases;
  const out: Prompt[] = [{ text: say.envelope(m.fromName, m.sentAt, ctx.clock.now(), tz) }];
  if (m.voice) out.push({ url: m.voice.url });
  else if (m.text) {
    const language = await ctx.bodyLanguage(m.text);
    out.push({ text: m.text, otherwise: say.cannotBeRead(m.fromName), ...(language ? { language } : {}) });
  }
  return out;
}

/** What the caller hears first after logging on: the count, and the first message. */
export async function firstHeard(ctx: CallContext, list: readonly IvrMessage[], timeZone?: string): Promise<Prompt[]> {
  const count: Prompt = { text: ctx.phrases.messageCount(list.length) };
  const first = list[0];
  if (!first) return [count];
  return [count, { text: ctx.phrases.ordinalMessage(0, list.length) }, ...(await messagePrompts(ctx, first, timeZone))];
}

export async function readMessages(ctx: CallContext, svc: FlowServices): Promise<State> {
  const user = ctx.userOrThrow;
  // Messages marked read or deleted earlier in this call are not listed again.
  await ctx.unreadSettled();
  // The first time after log-on: the list read while the caller keyed the PIN.
  const unread = (await ctx.takeUnread(user.id)) ?? (await svc.presence.unread(user.id));
  const list = unread.slice(0, ctx.config.maxMessagesPerList);
  if (list.length === 0) return { name: 'main', lead: [{ text: ctx.phrases.messageCount(0) }] };
  let lead: Prompt[] = [{ text: ctx.phrases.messageCount(list.length) }];
  for (let i = 0; i < list.length; ) {
    const m = list[i] as IvrMessage;
    const next = list[i + 1];
    if (next)
      ctx.renderAhead(async () => [
        { text: ctx.phrases.ordinalMessage(i + 1, list.length) },
        ...(await messagePrompts(ctx, next)),
      ]);
    const choice = await menu(ctx, MESSAGE_MENU, [
      ...lead,
      { text: ctx.phrases.ordinalMessage(i, list.length) },
      ...(await messagePrompts(ctx, m)),
    ]);
    lead = [];
    // Heard or acted on: read. Written after the next play request is out (the caller does not wait for it).
    if (choice !== 'delete')
      ctx.later('mark read', () => svc.presence.markRead(user.id, [m.id]), { changesUnread: true });
    switch (choice) {
      case 'replay':
        continue;
      case 'reply':
        await replyByVoice(ctx, svc, m.sessionId);
        i++;
        break;
      case 'delete':
        ctx.later('dismiss', () => svc.presence.dismiss(user.id, [m.id]), { changesUnread: true });
        lead = ['messageDeleted'];
        i++;
        break;
      case 'live':
        return { name: 'live-chat', sessionId: m.sessionId };
      case 'back':
        return { name: 'main' };
      default:
        i++;
    }
  }
  return { name: 'main', lead: [...lead, 'noMoreMessages'] };
}
