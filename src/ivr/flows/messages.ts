/**
 * New messages: "You have N new messages", then each one with its envelope
 * ("From Alice, today at 10:42", in the caller's time zone) and its body - a
 * text spoken by the audio server, or a voice message's own audio. A message
 * counts as read once the caller has heard it or acted on it. Keys (also
 * during the message, which stops it): 1 again, 5 reply, 6 next, 7 delete,
 * 8 chat live in its session, * back to the main menu.
 */
import type { CallContext, Prompt } from '../context.js';
import { MESSAGE_MENU } from '../menus.js';
import type { IvrMessage } from '../ports.js';
import { menu, say } from '../verbs.js';
import { replyByVoice } from './reply.js';
import type { FlowServices, State } from './types.js';

/** The envelope in the caller's language; a text body in its own language when that can be told. */
export async function messagePrompts(ctx: CallContext, m: IvrMessage): Promise<Prompt[]> {
  const tz = ctx.user?.timeZone ?? 'UTC';
  const say = ctx.phrases;
  const out: Prompt[] = [{ text: say.envelope(m.fromName, m.sentAt, ctx.clock.now(), tz) }];
  if (m.voice) out.push({ url: m.voice.url });
  else if (m.text) {
    const language = await ctx.bodyLanguage(m.text);
    out.push({ text: m.text, otherwise: say.cannotBeRead(m.fromName), ...(language ? { language } : {}) });
  }
  return out;
}

export async function readMessages(ctx: CallContext, svc: FlowServices): Promise<State> {
  const user = ctx.userOrThrow;
  const list = (await svc.presence.unread(user.id)).slice(0, ctx.config.maxMessagesPerList);
  await say(ctx, [{ text: ctx.phrases.messageCount(list.length) }]);
  if (list.length === 0) return { name: 'main' };
  for (let i = 0; i < list.length; ) {
    const m = list[i] as IvrMessage;
    const choice = await menu(ctx, MESSAGE_MENU, [
      { text: ctx.phrases.ordinalMessage(i, list.length) },
      ...(await messagePrompts(ctx, m)),
    ]);
    if (choice !== 'delete') await svc.presence.markRead(user.id, [m.id]);
    switch (choice) {
      case 'replay':
        continue;
      case 'reply':
        await replyByVoice(ctx, svc, m.sessionId);
        i++;
        break;
      case 'delete':
        await svc.presence.dismiss(user.id, [m.id]);
        await say(ctx, ['messageDeleted']);
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
  await say(ctx, ['noMoreMessages']);
  return { name: 'main' };
}
