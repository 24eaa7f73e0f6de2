import type { Catalogue } from './types.js';

export const en: Catalogue = {
  prompts: {
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
  },
  welcomeBack: (name) => `Welcome back, ${name}. Please enter your PIN, then press pound.`,
  messageCount: (n, count, plural) =>
    n === 0 ? 'You have no new messages.' : `You have ${count} new ${plural === 'one' ? 'message' : 'messages'}.`,
  triesLeft: (count, plural) => `You have ${count} ${plural === 'one' ? 'try' : 'tries'} left.`,
  today: (time) => `today at ${time}`,
  yesterday: (time) => `yesterday at ${time}`,
  onWeekday: (weekday, time) => `on ${weekday} at ${time}`,
  onDate: (date, time) => `on ${date} at ${time}`,
  envelope: (name, when) => `From ${name}, ${when}.`,
  ordinal: (kind, n) =>
    kind === 'only'
      ? 'Message.'
      : kind === 'first'
        ? 'First message.'
        : kind === 'last'
          ? 'Last message.'
          : `Message ${n}.`,
  state: (s) => (s === 'on-the-phone' ? 'on the phone' : s),
  isState: (name, state) => `${name} is ${state}.`,
  contactChoice: (name, key) => `For ${name}, press ${key}.`,
  presenceSet: (state) => `Your presence is now ${state}.`,
  chattingWith: (names) => `You are in a chat with ${names}.`,
  resumeQuestion: (names) => `You were in a chat with ${names}.`,
  says: (name, text) => `${name} says: ${text}`,
  sentVoice: (name) => `${name} sent a voice message.`,
  cannotBeRead: (name) => `A message from ${name} that cannot be read aloud; read it on the web.`,
  wantsToChat: (name) => `Hello. ${name} wants to chat with you.`,
  nobody: 'nobody',
};
