import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Secrets never reach a log line: these paths are censored wherever they
 * appear in a logged object.
 */
export const REDACT_PATHS = [
  'pin',
  'password',
  'secret',
  'token',
  'authorization',
  '*.pin',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.apiKey',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerSettings {
  level: string;
  /** Write to this stream instead of stdout (tests capture lines). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return settings.destination ? pino(options, settings.destination as DestinationStream) : pino(options);
}

/** A logger that drops everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
