/**
 * The reverse log-on call (ReverseLogonPort): the IVR calls a user back about
 * a waiting message. Rules:
 * - Ring the user's phone through the call-control port; busy, no answer and
 *   failures are outcomes, never exceptions.
 * - On answer, first tell a person from an answering machine: the PBX's own
 *   AMD result when the dialplan ran AMD() (AMDSTATUS), otherwise listen - a
 *   person says "Hello?" and pauses, a machine's greeting goes on past
 *   `amdMachineSeconds` without a key. A machine gets the message after its
 *   beep when the request asks for it, then the call ends.
 * - A person hears who wants to chat and the messages; 1 accepts (a phone
 *   link of the session, then live chat - the outcome is reported at once,
 *   the call goes on), 2 declines (the session is told), 3 replays; silence
 *   after the tries, or a hang-up before choosing, is 'no-response'.
 * - The caller's signal (the notifier cancelling the ladder) hangs the call up.
 */
import { AppError } from '../core/errors.js';
import type { ReverseLogonOutcome, ReverseLogonPort, ReverseLogonRequest } from '../notify/reverse-logon-port.js';
import type { OriginateResult } from '../telephony/port.js';
import { type CallContext, CallEnded, GiveUp, type Prompt } from './context.js';
import type { IvrService, IvrDeps } from './ivr-service.js';
import { REVERSE_MENU } from './menus.js';
import { cannotBeRead, wantsToChat } from './prompts.js';
import { dropRecording, Hangup, menu, Record, run, say } from './verbs.js';

const MAX_REPLAYS = 5;

function checkRequest(req: ReverseLogonRequest): void {
  const bad = (why: string) => new AppError('IVR_BAD_REQUEST', `reverse log-on ${req.alertId}: ${why}`);
  if (!/^\+[1-9]\d{5,14}$/.test(req.phoneNumber)) throw bad('the phone number is not E.164');
  if (!Number.isInteger(req.userId) || req.userId < 1) throw bad('no callee');
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw bad('no message to read');
  if (!Number.isFinite(req.ringSeconds) || req.ringSeconds < 1 || req.ringSeconds > 300)
    throw bad('ring time must be 1-300 seconds');
  if (!req.senderSpokenName?.trim()) throw bad('no sender name');
}

export class ReverseLogon implements ReverseLogonPort {
  constructor(
    private readonly ivr: IvrService,
    private readonly deps: IvrDeps,
  ) {}

  async call(req: ReverseLogonRequest, signal?: AbortSignal): Promise<ReverseLogonOutcome> {
    checkRequest(req);
    const log = this.deps.log.child({ alert: req.alertId, user: req.userId });
    if (signal?.aborted) return { status: 'failed', reason: 'cancelled' };
    if (!this.ivr.isStarted) return { status: 'failed', reason: 'telephony is not running' };
    const user = await this.deps.accounts.userById(req.userId);
    if (!user) return { status: 'failed', reason: `no user ${req.userId}` };
    // The alert may have been cancelled while the user was read.
    if (signal?.aborted) return { status: 'failed', reason: 'cancelled' };
    const { ivr } = this.deps.config;
    const endpoint = ivr.dialTemplate.replace('{e164}', req.phoneNumber).replace('{number}', req.phoneNumber.slice(1));
    let r: OriginateResult;
    try {
      r = await this.ivr.callControl.originate({
        endpoint,
        timeoutSeconds: req.ringSeconds,
        variables: { PHONEIM_ALERT: req.alertId },
        appArgs: ['reverse-logon', req.alertId],
        ...(ivr.callerId ? { callerId: ivr.callerId } : {}),
      });
    } catch (e) {
      log.warn({ err: e }, 'reverse log-on: originate failed');
      return { status: 'failed', reason: (e as Error).message };
    }
    log.info({ status: r.status }, 'reverse log-on: originate');
    if (r.status === 'busy') return { status: 'busy' };
    if (r.status === 'no-answer') return { status: 'no-answer' };
    if (r.status !== 'answered') return { status: 'failed', reason: `${r.status}: ${r.causeText}` };

    const call = r.call;
    const ctx = this.ivr.newContext(call);
    ctx.user = user;
    let settle: (o: ReverseLogonOutcome) => void = () => undefined;
    const outcome = new Promise<ReverseLogonOutcome>((resolve) => {
      let settled = false;
      settle = (o) => {
        if (settled) return;
        settled = true;
        ctx.log.info({ outcome: o.status }, 'reverse log-on outcome');
        resolve(o);
      };
    });
    const onCancel = () => {
      void call.hangup('normal').catch(() => undefined);
    };
    signal?.addEventListener('abort', onCancel, { once: true });
    void this.ivr.track(
      ctx,
      async () => {
        try {
          const o = await this.converse(ctx, req);
          settle(o);
          if (o.status === 'accepted') await this.ivr.runStates(ctx, { name: 'live-chat', sessionId: req.sessionId });
        } catch (e) {
          if (e instanceof CallEnded || e instanceof GiveUp) settle({ status: 'no-response' });
          else settle({ status: 'failed', reason: (e as Error).message });
          throw e;
        } finally {
          signal?.removeEventListener('abort', onCancel);
          settle({ status: 'no-response' });
        }
      },
      'outbound',
    );
    return outcome;
  }

  private async converse(ctx: CallContext, req: ReverseLogonRequest): Promise<ReverseLogonOutcome> {
    ctx.state = 'reverse-logon';
    const intro: Prompt[] = [
      { text: wantsToChat(req.senderSpokenName) },
      ...req.messages.map(
        (m): Prompt =>
          m.audioUrl ? { url: m.audioUrl } : { text: m.text, otherwise: cannotBeRead(req.senderSpokenName) },
      ),
    ];
    if (await this.isMachine(ctx)) {
      if (!req.leaveVoicemail) {
        await run(ctx, new Hangup([]));
        return { status: 'machine', leftVoicemail: false };
      }
      await say(ctx, [...intro, 'voicemailTail'], false);
      await run(ctx, new Hangup([]));
      return { status: 'machine', leftVoicemail: true };
    }
    for (let replays = 0; replays <= MAX_REPLAYS; replays++) {
      const choice = await menu(ctx, REVERSE_MENU, intro);
      if (req.isTest && (choice === 'accept' || choice === 'decline')) {
        // A test alert has no session to join or decline: the call-back itself was the test.
        await run(ctx, new Hangup(['testAlertAnswered', 'goodbye']));
        return { status: choice === 'accept' ? 'accepted' : 'declined' };
      }
      if (choice === 'accept') {
        const user = ctx.userOrThrow;
        await this.deps.presence.joinSession(user.id, req.sessionId);
        ctx.link = await this.deps.presence.openLink(user.id, { kind: 'phone', deliver: (m) => ctx.deliver(m) });
        await say(ctx, ['reverseAccepted']);
        return { status: 'accepted' };
      }
      if (choice === 'decline') {
        await this.deps.presence.declineSession(ctx.userOrThrow.id, req.sessionId);
        await run(ctx, new Hangup(['reverseDeclined', 'goodbye']));
        return { status: 'declined' };
      }
    }
    await run(ctx, new Hangup(['goodbye']));
    return { status: 'no-response' };
  }

  /** A person or a machine? The PBX's AMD when it ran, else the length of the greeting. */
  private async isMachine(ctx: CallContext): Promise<boolean> {
    const amd = ctx.call.variables['AMDSTATUS'];
    if (amd === 'MACHINE') return true;
    if (amd === 'HUMAN') return false;
    const cfg = ctx.config;
    if (cfg.amdListenSeconds === 0) return false;
    const name = `amd-${ctx.call.id.replace(/[^A-Za-z0-9_.-]/g, '')}`;
    const r = await run(
      ctx,
      new Record({
        name,
        maxSeconds: cfg.amdListenSeconds,
        maxSilenceSeconds: cfg.amdSilenceSeconds,
        beep: false,
        terminateOn: 'any',
      }),
    );
    await dropRecording(ctx, name);
    const machine = ctx.digits.pending === 0 && r.durationSeconds >= cfg.amdMachineSeconds;
    ctx.log.info({ greetingSeconds: r.durationSeconds, machine }, 'answering machine detection');
    return machine;
  }
}
