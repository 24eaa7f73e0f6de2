/**
 * The audio file server's HTTP face: GET/HEAD /audio/<id>/<expires>/<sig>.<ext>,
 * what Asterisk plays from (sound:http://...) and web pages and emails link
 * to. The path is only ever parsed into an id and a format (anything else is
 * 404); the file opened is the store's own file for that id, so no request
 * reaches any other part of the filesystem. Answers carry the format's
 * Content-Type, an ETag, Cache-Control and Expires bounded by the URL's life
 * (without them Asterisk fetches on every play), and honour single byte ranges.
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { AudioService } from './audio-service.js';

/** A single range "bytes=a-b", "a-" or "-n" against a size; null when absent, malformed or multiple (serve it all). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

async function serve(audio: AudioService, req: FastifyRequest, res: FastifyReply): Promise<FastifyReply> {
  const { id, format, expiresAt, maxAgeSeconds } = audio.verifyPath((req.params as { '*'?: string })['*'] ?? '');
  const file = await audio.fileFor(id, format);
  const etag = `"${id}-${format}-${file.bytes}"`;
  const headers: Record<string, string | number> = {
    'content-type': file.contentType,
    'accept-ranges': 'bytes',
    etag,
    'cache-control': `private, max-age=${maxAgeSeconds}`,
    expires: new Date(expiresAt).toUTCString(),
    'x-content-type-options': 'nosniff',
  };
  if (format !== 'wav') headers['content-disposition'] = `inline; filename="${id}.${format}"`;
  const inm = req.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return res.code(304).headers(headers).send();
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, file.bytes);
  if (range === 'unsatisfiable') {
    res.header('content-range', `bytes */${file.bytes}`);
    throw new AppError('AUDIO_RANGE_NOT_SATISFIABLE', `the range lies outside the ${file.bytes} bytes of the file`);
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.bytes - 1;
  headers['content-length'] = end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${file.bytes}`;
  res.code(range ? 206 : 200).headers(headers);
  if (req.method === 'HEAD' || file.bytes === 0) return res.send();
  // A listener that hangs up mid-file (Asterisk stopping a playback) is normal: Fastify closes the stream.
  return res.send(createReadStream(file.path, { start, end }));
}

/** The audio routes, as a plugin of the platform's HTTP server. */
export function audioPlugin(audio: AudioService) {
  return async (app: FastifyInstance): Promise<void> => {
    // GET and HEAD in one route: a HEAD answer keeps the file's Content-Length and never reads the file.
    app.route({
      method: ['GET', 'HEAD'],
      url: '/audio/*',
      schema: { summary: 'A signed, expiring media URL (WAV for Asterisk, MP3 or Ogg for people)', tags: ['audio'] },
      handler: (req, res) => serve(audio, req, res),
    });
  };
}
