/**
 * Log-on. A caller ID bound to a user hears "Welcome back, <name>" and keys
 * the PIN; any other caller keys an account number, then the PIN. The account
 * server decides every try and the lock-out (a locked account hears so, then
 * goodbye). The IVR counts only silence and, for callers from unknown phones,
 * failed pairs (an unknown account number is not counted by the account
 * server), so that no call can guess for ever. Success opens the phone link:
 * presence "on the phone" (just after the first playback that follows `#`
 * is requested, so that the caller does not wait for it).
 */
import type { PinCheck } from '../../accounts/account-service.js';
import type { User } from '../../accounts/types.js';
import type { CallContext, Prompt } from '../context.js';
import { RESUME_MENU } from '../menus.js';
import { gather, menu } from '../verbs.js';
import { firstHeard } from './messages.js';
import type { FlowServices, State } from './types.js';

const PIN_DIGITS = 10;
const ACCOUNT_DIGITS = 12;
/** Known callers: the account server locks long before this; a safety net only. */
const MAX_PIN_TRIES_PER_CALL = 10;

/** A port's answer as a promise, a synchronous throw as a rejection. */
function settle<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

const GIVE_UP: State = { name: 'goodbye', prompts: ['tooManyTries', 'goodbye'] };
const LOCKED: State = { name: 'goodbye', prompts: ['locked', 'goodbye'] };

export async function logon(ctx: CallContext, svc: FlowServices): Promise<State> {
  const caller = await svc.accounts.lookupCaller(ctx.call.callerNumber);
  if (caller?.language) ctx.callerLanguage = caller.language;
  // While the caller keys the PIN: the PIN check's reads, the unread list (read once, kept for the list heard
  // after '#') and the words heard after '#', rendered - nothing of it is played before the PIN is verified.
  let check: Promise<PinCheck | null> | undefined;
  if (caller) {
    check = svc.accounts.prepareCallerPin(caller).catch((e: unknown) => {
      ctx.log.warn({ err: e }, 'preparing the PIN check failed; checked at # instead');
      return null;
    });
    const unread = ctx.keepUnread(
      caller.id,
      settle(() => svc.presence.unread(caller.id)),
    );
    ctx.renderAhead(async () =>
      firstHeard(ctx, (await unread).slice(0, ctx.config.maxMessagesPerList), caller.timeZone),
    );
  }
  // Each candidate of the PIN's length is verified as it is keyed, so that '#' finds the answer ready.
  const onDigits = check && ((digits: string) => void check.then((c) => c?.guess(digits)));
  let failures = 0;
  let silences = 0;
  let lead: Prompt[] = caller ? [] : ['welcome'];
  const silence = (): boolean => {
    lead = ['noInput'];
    return ++silences >= ctx.config.maxTries;
  };
  for (;;) {
    let account = '';
    if (!caller) {
      const a = await gather(ctx, { prompt: [...lead, 'enterAccount'], maxDigits: ACCOUNT_DIGITS, terminator: '#' });
      lead = [];
      if (!a.digits) {
        if (silence()) return GIVE_UP;
        continue;
      }
      account = a.digits;
    }
    const pinPrompt: Prompt[] =
      caller && failures === 0 && silences === 0
        ? [{ text: ctx.phrases.welcomeBack(caller.spokenName) }]
        : [...lead, 'enterPin'];
    const p = await gather(ctx, {
      prompt: pinPrompt,
      maxDigits: PIN_DIGITS,
      terminator: '#',
      ...(onDigits ? { onDigits } : {}),
    });
    lead = [];
    if (!p.digits) {
      if (silence()) return GIVE_UP;
      continue;
    }
    const prepared = await check;
    const result = prepared
      ? await prepared.validate(p.digits)
      : caller
        ? await svc.accounts.validateCallerPin(ctx.call.callerNumber, p.digits)
        : await svc.accounts.validateAccountPin(account, p.digits);
    ctx.assertAlive();
    if (result.ok) return loggedOn(ctx, svc, result.user);
    if (result.reason === 'locked') {
      ctx.log.info({ caller: caller?.username ?? null }, 'log-on refused: locked');
      return LOCKED;
    }
    failures++;
    if (result.reason === 'unknown-caller') return GIVE_UP;
    if (caller ? failures >= MAX_PIN_TRIES_PER_CALL : failures >= ctx.config.maxTries) return GIVE_UP;
    lead = [caller ? 'wrongPin' : 'wrongAccount'];
    if (caller && result.triesLeft > 0) lead.push({ text: ctx.phrases.triesLeft(result.triesLeft) });
  }
}

async function loggedOn(ctx: CallContext, svc: FlowServices, user: User): Promise<State> {
  ctx.user = user;
  ctx.log = ctx.log.child({ user: user.username });
  ctx.log.info('caller logged on');
  // The link opens once the first words after '#' are on their way: the caller does not wait for presence to
  // reach the subscribers. What needs the link (live chat, the end of the call) waits for it (ctx.settled()).
  ctx.later('open the phone link', async () => {
    if (ctx.link) return;
    ctx.link = await svc.presence.openLink(user.id, { kind: 'phone', deliver: (m) => ctx.deliver(m) });
  });
  ctx.assertAlive();
  return { name: 'resume' };
}

/** Offers to go back to the chat the caller was in when the last call ended. */
export async function offerResume(ctx: CallContext, svc: FlowServices): Promise<State> {
  const user = ctx.userOrThrow;
  const position = await svc.resume.recall(user.id, ctx.clock.now());
  if (!position) return { name: 'messages' };
  const peers = await svc.presence.sessionPeers(user.id, position.sessionId);
  if (peers.length === 0) {
    await svc.resume.forget(user.id);
    return { name: 'messages' };
  }
  const choice = await menu(ctx, RESUME_MENU, [{ text: ctx.phrases.resumeQuestion(peers) }]);
  return choice === 'resume' ? { name: 'live-chat', sessionId: position.sessionId } : { name: 'messages' };
}
