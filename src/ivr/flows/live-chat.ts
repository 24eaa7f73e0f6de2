/**
 * Live chat: the caller stays in one session and hears every new message in
 * it as it arrives - unread ones first, then each as the phone link delivers
 * it - strictly one after another, never over each other. A key stops the
 * message being read: 5 replies by voice at any moment (messages arriving
 * meanwhile wait in the queue), * leaves the chat. The position is
 * remembered while the caller is in the chat, so a caller who hangs up and
 * calls again is offered to come back; leaving with * forgets it.
 */
import { AppError } from '../../core/errors.js';
import type { CallContext, Prompt } from '../context.js';
import type { IvrMessage } from '../ports.js';
import { run, say, type Verb } from '../verbs.js';
import { replyByVoice } from './reply.js';
import type { FlowServices, State } from './types.js';

export class LiveChat implements Verb<'left'> {
  readonly name = 'live-chat';
  private readonly stopper = new AbortController();

  constructor(
    private readonly sessionId: string,
    private readonly svc: FlowServices,
  ) {}

  check(ctx: CallContext): void {
    if (!ctx.user || !ctx.link)
      throw new AppError('IVR_VERB_PRECONDITION', 'live-chat: nobody is logged on with a phone link', {
        verb: this.name,
      });
  }

  async exec(ctx: CallContext, signal: AbortSignal): Promise<'left'> {
    const user = ctx.userOrThrow;
    const { presence, resume } = this.svc;
    const queue: IvrMessage[] = [];
    const seen = new Set<string>();
    let wake: (() => void) | null = null;
    const enqueue = (m: IvrMessage) => {
      if (m.sessionId !== this.sessionId || m.fromUserId === user.id || seen.has(m.id)) return;
      seen.add(m.id);
      queue.push(m);
      wake?.();
    };
    const off = ctx.onMessage(enqueue);
    try {
      await resume.remember(user.id, { sessionId: this.sessionId }, ctx.clock.now());
      for (const m of await presence.unread(user.id, this.sessionId)) enqueue(m);
      const peers = await presence.sessionPeers(user.id, this.sessionId);
      ctx.log.info({ session: this.sessionId, queued: queue.length }, 'live chat');
      await say(ctx, [{ text: ctx.phrases.chattingWith(peers) }, 'liveChatHelp']);
      for (;;) {
        if (this.stopper.signal.aborted) return 'left';
        let key = ctx.digits.take();
        if (key === undefined) {
          const next = queue.shift();
          if (next) {
            await presence.markRead(user.id, [next.id]);
            await say(ctx, await spoken(ctx, next));
            continue;
          }
          const idle = new AbortController();
          wake = () => idle.abort();
          try {
            key = (await ctx.digits.next(Number.POSITIVE_INFINITY, signal, ctx.call.id, idle.signal)) ?? undefined;
          } finally {
            wake = null;
          }
          if (key === undefined) continue;
        }
        if (key === '5') await replyByVoice(ctx, this.svc, this.sessionId);
        else if (key === '*') {
          await resume.forget(user.id);
          await say(ctx, ['liveChatLeft']);
          return 'left';
        }
      }
    } finally {
      off();
    }
  }

  stop(): void {
    this.stopper.abort();
  }
}

/** "Alice says: ..." in the caller's language; a body in another language is read in its own, after "Alice says:". */
async function spoken(ctx: CallContext, m: IvrMessage): Promise<Prompt[]> {
  const say = ctx.phrases;
  if (m.voice) return [{ text: say.someoneSays(m.fromName) }, { url: m.voice.url }];
  const text = m.text ?? '';
  const language = await ctx.bodyLanguage(text);
  if (language)
    return [
      { text: say.someoneSays(m.fromName, ' ').trim() },
      { text, otherwise: say.cannotBeRead(m.fromName), language },
    ];
  return [{ text: say.someoneSays(m.fromName, text), userText: text, otherwise: say.cannotBeRead(m.fromName) }];
}

export async function liveChat(ctx: CallContext, svc: FlowServices, sessionId: string): Promise<State> {
  // The phone link (opened after log-on's first playback) and what the caller read before are written first.
  await ctx.settled();
  await run(ctx, new LiveChat(sessionId, svc));
  return { name: 'main' };
}
