/**
 * Reply by voice: record after the tone, # ends; then review - 1 sends, 2
 * plays it back, 3 records again, * cancels. Only "send" writes anything:
 * the recording is fetched from the PBX, stored by the audio server and
 * posted to the session as a voice message with its audio URL, in that
 * order, and runs to the end even if the caller hangs up meanwhile (they
 * pressed send). Every other way out deletes the recording from the PBX.
 */
import type { CallContext } from '../context.js';
import { REVIEW_MENU } from '../menus.js';
import { dropRecording, menu, Record, run, say } from '../verbs.js';
import type { FlowServices } from './types.js';

export type ReplyOutcome = 'sent' | 'cancelled' | 'failed';

let sequence = 0;

export async function replyByVoice(ctx: CallContext, svc: FlowServices, sessionId: string): Promise<ReplyOutcome> {
  const user = ctx.userOrThrow;
  for (;;) {
    const name = `reply-${ctx.call.id.replace(/[^A-Za-z0-9_.-]/g, '')}-${++sequence}`;
    await say(ctx, ['recordReply'], false);
    ctx.digits.clear();
    const recording = await run(ctx, new Record({ name }));
    if (recording.outcome === 'failed') {
      await say(ctx, ['replyFailed']);
      return 'failed';
    }
    for (;;) {
      const choice = await menu(ctx, REVIEW_MENU);
      if (choice === 'listen') {
        await say(ctx, [{ media: `recording:${name}` }]);
        continue;
      }
      if (choice === 'send') return send(ctx, svc, name, user.id, sessionId);
      await dropRecording(ctx, name);
      if (choice === 'cancel') {
        await say(ctx, ['replyCancelled']);
        return 'cancelled';
      }
      break; // record again
    }
  }
}

async function send(
  ctx: CallContext,
  svc: FlowServices,
  name: string,
  userId: number,
  sessionId: string,
): Promise<ReplyOutcome> {
  let data: Buffer;
  try {
    data = await ctx.control.fetchRecording(name);
  } catch (e) {
    ctx.log.warn({ err: e, recording: name }, 'fetching the recording failed');
    await dropRecording(ctx, name);
    await say(ctx, ['replyFailed']);
    return 'failed';
  }
  try {
    const stored = await ctx.audio.storeRecording({ data, userId, sessionId });
    const posted = await svc.presence.postMessage({
      sessionId,
      fromUserId: userId,
      voice: { audioId: stored.id, url: stored.wavUrl },
    });
    await ctx.audio.linkRecording?.(stored.id, { messageId: posted.id, sessionId });
    ctx.log.info({ session: sessionId, message: posted.id, durationMs: stored.durationMs }, 'voice reply sent');
  } catch (e) {
    ctx.log.warn({ err: e, session: sessionId }, 'storing or posting the reply failed');
    await dropRecording(ctx, name);
    await say(ctx, ['replyFailed']);
    return 'failed';
  }
  await dropRecording(ctx, name);
  await say(ctx, ['replySent']);
  return 'sent';
}
