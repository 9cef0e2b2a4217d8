import { promisify } from 'node:util'
import { brotliCompress, gzip, constants } from 'node:zlib'

// Compression of mirrored playlists. A signed playlist repeats the same long query on every
// line, which compresses to a few bytes a line; each body is compressed once and kept with it.

export type PlaylistEncoding = 'br' | 'gzip' | 'identity'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

/** Bodies smaller than this are sent as they are: compressing them saves less than it costs. */
export const MIN_COMPRESS_BYTES = 1024

// Quality 5 for the query on every line: within 1% of quality 9, at a fifth of the time (a
// 1,000-segment playlist: 630 KB to 2.4 KB in 3.5 ms; quality 11 takes 120 ms for 2.2 KB).
// Quality 10 in variables mode, whose bodies are as small as the source: 1.51x the unsigned
// playlist's bytes at quality 5, 1.44x at 10, in 16 ms on the thread pool, once per user and
// playlist (bench:playlists, variables mode, compressed bytes).
const brotliOptions = (quality: number): object => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: quality,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT
  }
})
const BROTLI = brotliOptions(5)
const BROTLI_COMPACT = brotliOptions(10)

/** The encoding to answer with for an Accept-Encoding header: br, then gzip, else identity. */
export function negotiateEncoding (header: string | undefined): PlaylistEncoding {
  if (header === undefined || header === '') return 'identity'
  const q = new Map<string, number>()
  for (const part of header.split(',')) {
    const semi = part.indexOf(';')
    const name = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase()
    const m = semi === -1 ? null : /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(part.slice(semi + 1))
    q.set(name === 'x-gzip' ? 'gzip' : name, m === null ? 1 : Number(m[1]))
  }
  const star = q.get('*') ?? 0
  if ((q.get('br') ?? star) > 0) return 'br'
  if ((q.get('gzip') ?? star) > 0) return 'gzip'
  return 'identity'
}

/** Compresses a body for an encoding (on Node's thread pool); `compact`: a variables-mode body. */
export function compressBody (body: Buffer, encoding: 'br' | 'gzip', compact = false): Promise<Buffer> {
  return encoding === 'br' ? brotli(body, compact ? BROTLI_COMPACT : BROTLI) : gz(body)
}
