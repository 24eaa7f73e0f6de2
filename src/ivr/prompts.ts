/**
 * The IVR's fixed prompts (id -> text) and the sentences it builds from data
 * (message counts, envelopes). This is the IVR's own catalogue: the audio
 * server renders each text through speechUrl() and caches it by content, so a
 * prompt is synthesised once and every later play is a cache hit.
 */
import { AppError } from '../core/errors.js';

export const PROMPTS = {
  welcome: 'Welcome to phone messaging.',
  enterAccount: 'Please enter your account number, then press pound.',
  enterPin: 'Please enter your PIN, then press pound.',
  wrongPin: 'That PIN is not right.',
  wrongAccount: 'That account number and PIN do not match.',
  locked: 'Too many wrong tries. Your account is locked for a while.',
  goodbye: 'Goodbye.',
  noInput: 'I did not hear a key.',
  invalidKey: 'That is not an option.',
  tooManyTries: 'Sorry, I could not understand your choice.',
  mainMenu:
    'Main menu. Press 1 to hear your messages, 2 to hear who is online, 3 to set your presence, 4 to start a chat with a contact, or 9 to end the call.',
  noMoreMessages: 'No more new messages.',
  messageOptions:
    'Press 1 to hear it again, 5 to reply, 6 for the next message, 7 to delete it, 8 to chat live, or star for the main menu.',
  messageDeleted: 'Message deleted.',
  recordReply: 'Record your reply after the tone. Press pound when you are done.',
  reviewReply: 'Press 1 to send it, 2 to listen to it, 3 to record it again, or star to cancel.',
  replySent: 'Your reply was sent.',
  replyCancelled: 'Your reply was cancelled.',
  replyEmpty: 'I did not hear anything.',
  replyFailed: 'Sorry, your reply could not be sent.',
  testAlertAnswered: 'This was a test alert: your phone can be called back. Nothing else to do.',
  noContactsOnline: 'None of your contacts is online.',
  noContacts: 'You have no contacts yet.',
  presenceMenu: 'Press 1 for online, 2 for away, 3 for busy, or 4 to appear offline. Press star to go back.',
  chooseContact: 'Enter the speed dial number of a contact, then press pound.',
  noSuchContact: 'There is no contact with that number.',
  liveChatHelp: 'Messages will be read as they arrive. Press 5 to reply at any time, or star to leave the chat.',
  liveChatLeft: 'You left the chat.',
  resumeOffer: 'Press 1 to go back to it, or 2 for the main menu.',
  reverseOptions: 'Press 1 to accept, 2 to decline, or 3 to hear it again.',
  reverseAccepted: 'You are now in the chat.',
  reverseDeclined: 'You declined. The sender will be told.',
  voicemailTail: 'Call phone messaging to listen and reply. Goodbye.',
  error: 'Sorry, something went wrong. Please call again later.',
} as const;

export type PromptId = keyof typeof PROMPTS;

export function promptText(id: string): string {
  if (!Object.hasOwn(PROMPTS, id)) throw new AppError('IVR_PROMPT_UNKNOWN', `no IVR prompt "${id}"`, { prompt: id });
  return PROMPTS[id as PromptId];
}

export const isPromptId = (id: string): id is PromptId => Object.hasOwn(PROMPTS, id);

// ---- sentences built from data ----------------------------------------------------

export function welcomeBack(spokenName: string): string {
  return `Welcome back, ${spokenName}. Please enter your PIN, then press pound.`;
}

/** "You have no new messages." / "You have 1 new message." / "You have 3 new messages." */
export function messageCount(n: number): string {
  if (n === 0) return 'You have no new messages.';
  if (n === 1) return 'You have 1 new message.';
  return `You have ${n} new messages.`;
}

export function triesLeft(n: number): string {
  return n === 1 ? 'You have 1 try left.' : `You have ${n} tries left.`;
}

const DAY_MS = 24 * 3600 * 1000;

// Building an Intl.DateTimeFormat costs far more than using one: one per time zone and shape, kept.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(timeZone: string, shape: 'parts' | 'weekday' | 'date'): Intl.DateTimeFormat {
  const key = `${shape} ${timeZone}`;
  let f = formats.get(key);
  if (!f) {
    f =
      shape === 'parts'
        ? new Intl.DateTimeFormat('en-US', {
            timeZone,
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          })
        : shape === 'weekday'
          ? new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'long' })
          : new Intl.DateTimeFormat('en-US', { timeZone, month: 'long', day: 'numeric' });
    if (formats.size > 1000) formats.clear();
    formats.set(key, f);
  }
  return f;
}

function parts(at: number, timeZone: string) {
  const p = Object.fromEntries(
    format(timeZone, 'parts')
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return { day: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/**
 * When a message was sent, as a caller expects to hear it, in their own time
 * zone: "today at 10:42", "yesterday at 18:05", "on Monday at 09:00", "on
 * March 3 at 09:00".
 */
export function spokenWhen(at: number, now: number, timeZone: string): string {
  const then = parts(at, timeZone);
  if (then.day === parts(now, timeZone).day) return `today at ${then.time}`;
  if (then.day === parts(now - DAY_MS, timeZone).day) return `yesterday at ${then.time}`;
  if (now - at < 6 * DAY_MS && at <= now) return `on ${format(timeZone, 'weekday').format(at)} at ${then.time}`;
  const date = format(timeZone, 'date').format(at);
  return `on ${date} at ${then.time}`;
}

/** "From Alice, today at 10:42." */
export function envelope(fromName: string, at: number, now: number, timeZone: string): string {
  return `From ${fromName}, ${spokenWhen(at, now, timeZone)}.`;
}

export function ordinalMessage(i: number, total: number): string {
  if (total === 1) return 'Message.';
  if (i === 0) return 'First message.';
  if (i === total - 1) return 'Last message.';
  return `Message ${i + 1}.`;
}

export function onlineList(names: { spokenName: string; state: string }[]): string {
  const say = (s: string) => (s === 'on-the-phone' ? 'on the phone' : s);
  return names.map((c) => `${c.spokenName} is ${say(c.state)}.`).join(' ');
}

export function contactChoices(names: string[]): string {
  return names.map((n, i) => `For ${n}, press ${i + 1}.`).join(' ');
}

export function presenceSet(state: string): string {
  return `Your presence is now ${state === 'offline' ? 'offline' : state}.`;
}

export function chattingWith(names: string[]): string {
  return `You are in a chat with ${joinNames(names)}.`;
}

export function resumeQuestion(names: string[]): string {
  return `You were in a chat with ${joinNames(names)}.`;
}

export function someoneSays(name: string, text?: string): string {
  return text ? `${name} says: ${text}` : `${name} sent a voice message.`;
}

/** Said instead of a message the speech engine cannot say (only symbols or emoji, markup, far too long). */
export function cannotBeRead(name: string): string {
  return `A message from ${name} that cannot be read aloud; read it on the web.`;
}

export function wantsToChat(name: string): string {
  return `Hello. ${name} wants to chat with you.`;
}

export function joinNames(names: string[]): string {
  if (names.length === 0) return 'nobody';
  if (names.length === 1) return names[0] as string;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
