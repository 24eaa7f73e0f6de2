import type { Catalogue } from './types.js';

const STATES = {
  online: 'online',
  away: 'abwesend',
  busy: 'beschäftigt',
  'on-the-phone': 'am Telefon',
  offline: 'offline',
};

export const de: Catalogue = {
  prompts: {
    welcome: 'Willkommen beim Telefon-Nachrichtendienst.',
    enterAccount: 'Bitte geben Sie Ihre Kontonummer ein und drücken Sie dann die Rautetaste.',
    enterPin: 'Bitte geben Sie Ihre PIN ein und drücken Sie dann die Rautetaste.',
    wrongPin: 'Diese PIN ist nicht richtig.',
    wrongAccount: 'Kontonummer und PIN passen nicht zusammen.',
    locked: 'Zu viele falsche Versuche. Ihr Konto ist für eine Weile gesperrt.',
    goodbye: 'Auf Wiederhören.',
    noInput: 'Ich habe keine Taste gehört.',
    invalidKey: 'Diese Auswahl gibt es nicht.',
    tooManyTries: 'Leider habe ich Ihre Auswahl nicht verstanden.',
    mainMenu:
      'Hauptmenü. Drücken Sie 1, um Ihre Nachrichten zu hören, 2, um zu hören, wer online ist, 3, um Ihren Status zu setzen, 4, um ein Gespräch mit einem Kontakt zu beginnen, oder 9, um aufzulegen.',
    noMoreMessages: 'Keine weiteren neuen Nachrichten.',
    messageOptions:
      'Drücken Sie 1, um sie noch einmal zu hören, 5, um zu antworten, 6 für die nächste Nachricht, 7, um sie zu löschen, 8, um live zu chatten, oder Stern für das Hauptmenü.',
    messageDeleted: 'Nachricht gelöscht.',
    recordReply: 'Sprechen Sie Ihre Antwort nach dem Ton. Drücken Sie Raute, wenn Sie fertig sind.',
    reviewReply:
      'Drücken Sie 1, um sie zu senden, 2, um sie anzuhören, 3, um sie neu aufzunehmen, oder Stern, um abzubrechen.',
    replySent: 'Ihre Antwort wurde gesendet.',
    replyCancelled: 'Ihre Antwort wurde verworfen.',
    replyEmpty: 'Ich habe nichts gehört.',
    replyFailed: 'Leider konnte Ihre Antwort nicht gesendet werden.',
    testAlertAnswered: 'Dies war ein Testalarm: Ihr Telefon kann zurückgerufen werden. Sonst ist nichts zu tun.',
    noContactsOnline: 'Keiner Ihrer Kontakte ist online.',
    noContacts: 'Sie haben noch keine Kontakte.',
    presenceMenu:
      'Drücken Sie 1 für online, 2 für abwesend, 3 für beschäftigt oder 4, um offline zu erscheinen. Drücken Sie Stern, um zurückzugehen.',
    chooseContact: 'Geben Sie die Kurzwahl eines Kontakts ein und drücken Sie dann Raute.',
    noSuchContact: 'Unter dieser Nummer gibt es keinen Kontakt.',
    liveChatHelp:
      'Nachrichten werden vorgelesen, sobald sie eintreffen. Drücken Sie jederzeit 5, um zu antworten, oder Stern, um das Gespräch zu verlassen.',
    liveChatLeft: 'Sie haben das Gespräch verlassen.',
    resumeOffer: 'Drücken Sie 1, um dorthin zurückzukehren, oder 2 für das Hauptmenü.',
    reverseOptions: 'Drücken Sie 1, um anzunehmen, 2, um abzulehnen, oder 3, um es noch einmal zu hören.',
    reverseAccepted: 'Sie sind jetzt im Gespräch.',
    reverseDeclined: 'Sie haben abgelehnt. Der Absender wird benachrichtigt.',
    voicemailTail: 'Rufen Sie den Telefon-Nachrichtendienst an, um zuzuhören und zu antworten. Auf Wiederhören.',
    error: 'Leider ist ein Fehler aufgetreten. Bitte rufen Sie später noch einmal an.',
  },
  welcomeBack: (name) =>
    `Willkommen zurück, ${name}. Bitte geben Sie Ihre PIN ein und drücken Sie dann die Rautetaste.`,
  messageCount: (n, count, plural) =>
    n === 0
      ? 'Sie haben keine neuen Nachrichten.'
      : plural === 'one'
        ? `Sie haben ${count} neue Nachricht.`
        : `Sie haben ${count} neue Nachrichten.`,
  triesLeft: (count, plural) =>
    plural === 'one' ? `Sie haben noch ${count} Versuch.` : `Sie haben noch ${count} Versuche.`,
  today: (time) => `heute um ${time}`,
  yesterday: (time) => `gestern um ${time}`,
  onWeekday: (weekday, time) => `am ${weekday} um ${time}`,
  onDate: (date, time) => `am ${date} um ${time}`,
  envelope: (name, when) => `Von ${name}, ${when}.`,
  ordinal: (kind, n) =>
    kind === 'only'
      ? 'Nachricht.'
      : kind === 'first'
        ? 'Erste Nachricht.'
        : kind === 'last'
          ? 'Letzte Nachricht.'
          : `Nachricht ${n}.`,
  state: (s) => STATES[s],
  isState: (name, state) => `${name} ist ${state}.`,
  contactChoice: (name, key) => `Für ${name} drücken Sie ${key}.`,
  presenceSet: (state) => `Ihr Status ist jetzt ${state}.`,
  chattingWith: (names) => `Sie sind im Gespräch mit ${names}.`,
  resumeQuestion: (names) => `Sie waren im Gespräch mit ${names}.`,
  says: (name, text) => `${name} sagt: ${text}`,
  sentVoice: (name) => `${name} hat eine Sprachnachricht geschickt.`,
  cannotBeRead: (name) => `Eine Nachricht von ${name}, die nicht vorgelesen werden kann; lesen Sie sie im Web.`,
  wantsToChat: (name) => `Hallo. ${name} möchte mit Ihnen chatten.`,
  nobody: 'niemand',
};
