/**
 * The notifier's words - pages, alert emails, the SMS reply invitation and
 * the polite refusal - in every language the platform speaks (en, es, fr,
 * de; test/notify/notices.test.ts checks each is complete). Counts and dates
 * are formatted for the recipient's language tag with Intl.
 */
import { catalogueLanguage, type SupportedLanguage } from '../core/language.js';

export interface NoticeCatalogue {
  and: string;
  others(n: string): string;
  more(n: string): string;
  voiceMessage: string;
  noText: string;
  callToReply(number: string): string;
  replyWithCode(code: string, name: string): string;
  replyRefused: string;
  testTag: string;
  subjectOne(from: string): string;
  subjectMany(n: string, from: string): string;
  hello(name: string): string;
  sentWhileAway(name: string): string;
  waiting(n: string): string;
  moreBefore(n: string, plural: Intl.LDMLPluralRule): string;
  voiceAttached: string;
  replyOnWeb(url: string): string;
  orCall(number: string): string;
  doNotForward: string;
}

const en: NoticeCatalogue = {
  and: 'and',
  others: (n) => `${n} others`,
  more: (n) => `(+${n} more)`,
  voiceMessage: '(voice message)',
  noText: '(no text)',
  callToReply: (number) => `Call ${number} to listen and reply.`,
  replyWithCode: (code, name) => `Reply ${code} + your text to answer ${name}.`,
  replyRefused:
    'Sorry, your reply was not delivered: its code is wrong, used or expired. Start it with the code of the latest alert, from the phone it was sent to.',
  testTag: '[test]',
  subjectOne: (from) => `New message from ${from}`,
  subjectMany: (n, from) => `${n} new messages from ${from}`,
  hello: (name) => `Hello ${name},`,
  sentWhileAway: (name) => `${name} sent you a message while you were away:`,
  waiting: (n) => `You have ${n} messages waiting:`,
  moreBefore: (n, plural) =>
    `... and ${n} more ${plural === 'one' ? 'message' : 'messages'} before these: read them on the web.`,
  voiceAttached: '[voice message: the recording is attached]',
  replyOnWeb: (url) => `Reply on the web: ${url}`,
  orCall: (number) => `Or call ${number} to listen and reply by phone.`,
  doNotForward: 'This link logs you straight in; do not forward this email.',
};

const es: NoticeCatalogue = {
  and: 'y',
  others: (n) => `${n} más`,
  more: (n) => `(+${n} más)`,
  voiceMessage: '(mensaje de voz)',
  noText: '(sin texto)',
  callToReply: (number) => `Llame al ${number} para escuchar y responder.`,
  replyWithCode: (code, name) => `Responda ${code} + su texto para contestar a ${name}.`,
  replyRefused:
    'Lo sentimos, su respuesta no se ha entregado: el código es incorrecto, ya se usó o ha caducado. Empiece con el código del último aviso, desde el teléfono al que se envió.',
  testTag: '[prueba]',
  subjectOne: (from) => `Nuevo mensaje de ${from}`,
  subjectMany: (n, from) => `${n} mensajes nuevos de ${from}`,
  hello: (name) => `Hola, ${name}:`,
  sentWhileAway: (name) => `${name} le envió un mensaje mientras no estaba:`,
  waiting: (n) => `Tiene ${n} mensajes esperando:`,
  moreBefore: (n, plural) =>
    `... y ${n} ${plural === 'one' ? 'mensaje anterior' : 'mensajes anteriores'} a estos: léalos en la web.`,
  voiceAttached: '[mensaje de voz: la grabación va adjunta]',
  replyOnWeb: (url) => `Responda en la web: ${url}`,
  orCall: (number) => `O llame al ${number} para escuchar y responder por teléfono.`,
  doNotForward: 'Este enlace le da acceso directo; no reenvíe este correo.',
};

const fr: NoticeCatalogue = {
  and: 'et',
  others: (n) => `${n} autres`,
  more: (n) => `(+${n} autres)`,
  voiceMessage: '(message vocal)',
  noText: '(sans texte)',
  callToReply: (number) => `Appelez le ${number} pour écouter et répondre.`,
  replyWithCode: (code, name) => `Répondez ${code} + votre texte pour répondre à ${name}.`,
  replyRefused:
    "Désolé, votre réponse n'a pas été transmise : son code est faux, déjà utilisé ou expiré. Commencez-la par le code de la dernière alerte, depuis le téléphone qui l'a reçue.",
  testTag: '[test]',
  subjectOne: (from) => `Nouveau message de ${from}`,
  subjectMany: (n, from) => `${n} nouveaux messages de ${from}`,
  hello: (name) => `Bonjour ${name},`,
  sentWhileAway: (name) => `${name} vous a envoyé un message pendant votre absence :`,
  waiting: (n) => `${n} messages vous attendent :`,
  moreBefore: (n, plural) =>
    `... et ${n} ${plural === 'one' ? 'autre message' : 'autres messages'} avant ceux-ci : lisez-les sur le web.`,
  voiceAttached: "[message vocal : l'enregistrement est joint]",
  replyOnWeb: (url) => `Répondre sur le web : ${url}`,
  orCall: (number) => `Ou appelez le ${number} pour écouter et répondre par téléphone.`,
  doNotForward: 'Ce lien vous connecte directement ; ne transférez pas ce courriel.',
};

const de: NoticeCatalogue = {
  and: 'und',
  others: (n) => `${n} weitere`,
  more: (n) => `(+${n} weitere)`,
  voiceMessage: '(Sprachnachricht)',
  noText: '(kein Text)',
  callToReply: (number) => `Rufen Sie ${number} an, um zuzuhören und zu antworten.`,
  replyWithCode: (code, name) => `Antworten Sie ${code} + Ihren Text, um ${name} zu antworten.`,
  replyRefused:
    'Leider wurde Ihre Antwort nicht zugestellt: Der Code ist falsch, schon benutzt oder abgelaufen. Beginnen Sie mit dem Code der letzten Benachrichtigung, vom Telefon, an das sie ging.',
  testTag: '[Test]',
  subjectOne: (from) => `Neue Nachricht von ${from}`,
  subjectMany: (n, from) => `${n} neue Nachrichten von ${from}`,
  hello: (name) => `Hallo ${name},`,
  sentWhileAway: (name) => `${name} hat Ihnen eine Nachricht geschickt, während Sie weg waren:`,
  waiting: (n) => `${n} Nachrichten warten auf Sie:`,
  moreBefore: (n, plural) =>
    `... und ${n} ${plural === 'one' ? 'weitere Nachricht' : 'weitere Nachrichten'} davor: Lesen Sie sie im Web.`,
  voiceAttached: '[Sprachnachricht: Die Aufnahme ist angehängt]',
  replyOnWeb: (url) => `Im Web antworten: ${url}`,
  orCall: (number) => `Oder rufen Sie ${number} an, um per Telefon zuzuhören und zu antworten.`,
  doNotForward: 'Dieser Link meldet Sie direkt an; leiten Sie diese E-Mail nicht weiter.',
};

export const NOTICE_CATALOGUES: Readonly<Record<SupportedLanguage, NoticeCatalogue>> = { en, es, fr, de };

/** Bounds the caches of notices and formatters (languages and time zones come from user settings). */
const MAX_CACHED = 500;

/** A language's notices, with numbers and dates formatted for its tag. */
export class Notices {
  readonly words: NoticeCatalogue;
  private readonly locale: string;
  private readonly numbers: Intl.NumberFormat;
  private readonly plurals: Intl.PluralRules;
  /** Formatters per time zone: building one costs more than composing the whole email around it. */
  private readonly clocks = new Map<string, Intl.DateTimeFormat>();

  constructor(language: string) {
    const lang = catalogueLanguage(language);
    this.words = NOTICE_CATALOGUES[lang];
    this.locale = lang === 'en' ? 'en-GB' : language;
    this.numbers = new Intl.NumberFormat(this.locale);
    this.plurals = new Intl.PluralRules(this.locale);
  }

  n(value: number): string {
    return this.numbers.format(value);
  }

  plural(value: number): Intl.LDMLPluralRule {
    return this.plurals.select(value);
  }

  /** "14 Mar, 10:42" in the recipient's zone and language. */
  clock(at: number, timeZone: string): string {
    let f = this.clocks.get(timeZone);
    if (!f) {
      f = new Intl.DateTimeFormat(this.locale, {
        timeZone,
        day: 'numeric',
        month: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      if (this.clocks.size >= MAX_CACHED) this.clocks.clear();
      this.clocks.set(timeZone, f);
    }
    return f.format(at);
  }

  replyRefused(): string {
    return this.words.replyRefused;
  }
}

const byLanguage = new Map<string, Notices>();

/** A language's notices; built once per language tag (a Notices holds nothing that changes). */
export function notices(language: string | null | undefined): Notices {
  const tag = language || 'en';
  let n = byLanguage.get(tag);
  if (!n) {
    n = new Notices(tag);
    if (byLanguage.size >= MAX_CACHED) byLanguage.clear();
    byLanguage.set(tag, n);
  }
  return n;
}
