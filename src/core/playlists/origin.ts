import { open } from 'node:fs/promises'
import { resolve, sep } from 'node:path'
import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PARAM, FST_ERR_CF_PLAYLIST_ORIGIN } from '../errors.js'
import { checkOriginPath } from '../paths.js'

// Where source playlists come from. Each origin turns a raw CDN path into the playlist's text, or
// null when it has none; anything else that goes wrong is FST_ERR_CF_PLAYLIST_ORIGIN.

/** The playlists' origin: a folder, an HTTP server (the CDN itself, or what is behind it), or a function. */
export type PlaylistOrigin =
  | { root: string }
  | { url: string }
  | { load: (cdnPath: string) => PromiseLike<string | Buffer | null | undefined> | string | Buffer | null | undefined }

/** Loads a source playlist: its text, or null when the origin has none at that path. */
export type PlaylistLoader = (cdnPath: string) => Promise<string | null>

export interface LoaderSettings {
  /** The CDN base URL (`https://media.example.com`). */
  distribution: string
  /** Signs a short-lived URL, for an `{ url }` origin that is the CDN itself. */
  signUrl: (url: string, options: { expiresIn: number }) => Promise<string>
  /** Largest playlist read, in bytes. */
  maxBytes: number
  /** Milliseconds an origin may take: an HTTP exchange, a file read, a load function. */
  timeout: number
}

/** Lifetime of the app's own signed URL for fetching from the CDN: long enough for one request. */
const FETCH_URL_SECONDS = 60

function tooLarge (cdnPath: string, maxBytes: number): never {
  throw new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath} is larger than ${maxBytes} bytes (playlists.maxBytes)`)
}

/**
 * The file for a raw CDN path under `root`, or null when the path cannot name a file there: each
 * segment is percent-decoded (as a file server does) and one that becomes empty, `.`, `..`, or
 * holds `/`, `\` or NUL refuses the path, so nothing outside the folder can be read.
 */
export function fileFor (root: string, cdnPath: string): string | null {
  if (!cdnPath.startsWith('/')) return null
  const parts: string[] = []
  for (const raw of cdnPath.slice(1).split('/')) {
    let seg: string
    try {
      seg = decodeURIComponent(raw)
    } catch {
      return null
    }
    if (seg === '' || seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') ||
      seg.includes('\u0000')) return null
    parts.push(seg)
  }
  const file = resolve(root, ...parts)
  return file.startsWith(root + sep) ? file : null
}

function fromRoot (dir: string, settings: LoaderSettings): PlaylistLoader {
  const root = resolve(dir)
  const read = readFrom(root, settings)
  // A stalled file system (a network mount) is an origin that does not answer.
  return (cdnPath) => withinTimeout(read(cdnPath), settings.timeout, cdnPath)
}

function readFrom (root: string, settings: LoaderSettings): PlaylistLoader {
  return async (cdnPath) => {
    const file = fileFor(root, cdnPath)
    if (file === null) return null
    let handle
    try {
      handle = await open(file, 'r')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null
      throw new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath} cannot be read (${String(code)})`)
    }
    try {
      const info = await handle.stat()
      if (!info.isFile()) return null
      if (info.size > settings.maxBytes) tooLarge(cdnPath, settings.maxBytes)
      // Read to one byte past the bound, not to the end: the file may have grown since stat.
      const buffer = Buffer.allocUnsafe(Math.min(info.size, settings.maxBytes) + 1)
      let length = 0
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
        if (bytesRead === 0) break
        length += bytesRead
        if (length > settings.maxBytes) tooLarge(cdnPath, settings.maxBytes)
        if (length === buffer.length) break
      }
      if (length === buffer.length && length > info.size) tooLarge(cdnPath, settings.maxBytes)
      return buffer.toString('utf8', 0, length)
    } finally {
      await handle.close()
    }
  }
}

/**
 * Reads a response body to the end, counting the bytes as fetch decodes them (gzip, br, deflate)
 * and cancelling the read past `maxBytes`: a compressed bomb or an endless chunked body costs at
 * most `maxBytes` of memory. Null when it is too large.
 */
async function readBounded (body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer | null> {
  if (body === null) return Buffer.alloc(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let length = 0
  let since = 0
  for (;;) {
    // A body already buffered is read chunk after chunk in microtasks: let the event loop turn each MiB.
    if (since >= YIELD_BYTES) {
      since = 0
      await new Promise((resolve) => setImmediate(resolve))
    }
    const { done, value } = await reader.read()
    if (done) break
    length += value.byteLength
    since += value.byteLength
    if (length > maxBytes) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, length)
}

const YIELD_BYTES = 1024 * 1024

function originFailed (cdnPath: string, err: unknown): InstanceType<typeof FST_ERR_CF_PLAYLIST_ORIGIN> {
  const name = (err as Error | null)?.name
  const timedOut = name === 'TimeoutError' || name === 'AbortError'
  return new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath}: ${timedOut
? 'the origin did not answer in time'
    : 'the request failed'}`, { cause: err })
}

function fromUrl (base: string, settings: LoaderSettings): PlaylistLoader {
  const origin = base.replace(/\/+$/, '')
  const basePath = new URL(origin).pathname.replace(/\/$/, '')
  // The CDN itself answers only signed requests: the app signs its own short-lived URL.
  const isCdn = new URL(origin).origin === new URL(settings.distribution).origin
  return async (cdnPath) => {
    const target = origin + cdnPath
    // What is fetched must be exactly the path that was checked: the URL parser resolves dot
    // segments (also "%2e") and reads "\\" as "/", which would name another prefix's file.
    if (new URL(target).pathname !== basePath + checkOriginPath(cdnPath)) {
      throw new FST_ERR_CF_INVALID_PARAM('path', 'the origin URL would not name the path that was checked')
    }
    // One deadline for the whole exchange, headers and body: a slow drip ends with it too.
    const signal = AbortSignal.timeout(settings.timeout)
    let res: Response
    try {
      const url = isCdn ? await settings.signUrl(target, { expiresIn: FETCH_URL_SECONDS }) : target
      res = await fetch(url, { signal, redirect: 'error' })
    } catch (err) {
      throw originFailed(cdnPath, err)
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {})
      return null
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {})
      throw new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath}: the origin answered ${res.status}`)
    }
    const length = Number(res.headers.get('content-length') ?? 0)
    if (length > settings.maxBytes) {
      await res.body?.cancel().catch(() => {})
      tooLarge(cdnPath, settings.maxBytes)
    }
    let body: Buffer | null
    try {
      body = await readBounded(res.body, settings.maxBytes)
    } catch (err) {
      throw originFailed(cdnPath, err)
    }
    if (body === null) tooLarge(cdnPath, settings.maxBytes)
    return body.toString('utf8')
  }
}

/**
 * `work` unless it takes longer than `ms`: then FST_ERR_CF_PLAYLIST_ORIGIN. Concurrent requests for a
 * playlist share its load, so one that never settles would hold every later request for it.
 */
function withinTimeout<T> (work: PromiseLike<T>, ms: number, cdnPath: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath}: the origin did not answer in time`)),
      ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

function fromFunction (load: (cdnPath: string) => unknown, settings: LoaderSettings): PlaylistLoader {
  return async (cdnPath) => {
    let text: unknown
    try {
      text = await withinTimeout(Promise.resolve().then(() => load(cdnPath)), settings.timeout, cdnPath)
    } catch (err) {
      if ((err as { code?: unknown }).code === 'FST_ERR_CF_PLAYLIST_ORIGIN') throw err
      throw new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath}: the load function failed`, { cause: err })
    }
    if (text === null || text === undefined) return null
    // Sized before any conversion: a Buffer too large for a string would throw an uncoded error.
    if (Buffer.isBuffer(text)) {
      if (text.length > settings.maxBytes) tooLarge(cdnPath, settings.maxBytes)
      return text.toString('utf8')
    }
    if (typeof text !== 'string') {
      throw new FST_ERR_CF_PLAYLIST_ORIGIN(`${cdnPath}: the load function must return a ` +
      'string, a Buffer or null')
    }
    if (text.length > settings.maxBytes || Buffer.byteLength(text) > settings.maxBytes) {
      tooLarge(cdnPath,
        settings.maxBytes)
    }
    return text
  }
}

/** Checks an origin option (at registration) and returns its loader. */
export function createLoader (origin: unknown, settings: LoaderSettings, name = 'playlists.origin'): PlaylistLoader {
  const o = origin as Record<string, unknown> | null
  const keys = typeof o === 'object' && o !== null ? Object.keys(o) : []
  if (keys.length !== 1) {
    throw new FST_ERR_CF_INVALID_OPTION(name,
      'expected one of { root: dir }, { url: "https://origin" } or { load: async (cdnPath) => text }')
  }
  const value = (o as Record<string, unknown>)[keys[0] as string]
  if (keys[0] === 'root') {
    if (typeof value !== 'string' || value === '') {
      throw new FST_ERR_CF_INVALID_OPTION(`${name}.root`,
        'expected the folder holding the playlists')
    }
    return fromRoot(value, settings)
  }
  if (keys[0] === 'url') {
    let url: URL | null = null
    try {
      if (typeof value === 'string') url = new URL(value)
    } catch {}
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' ||
      url.hash !== '') {
      throw new FST_ERR_CF_INVALID_OPTION(`${name}.url`,
        'expected an http:// or https:// base URL without query, such as "https://origin.example.com"')
    }
    return fromUrl(value as string, settings)
  }
  if (keys[0] === 'load') {
    if (typeof value !== 'function') {
      throw new FST_ERR_CF_INVALID_OPTION(`${name}.load`,
        'expected a function (cdnPath) => text, Buffer or null')
    }
    return fromFunction(value as (cdnPath: string) => unknown, settings)
  }
  throw new FST_ERR_CF_INVALID_OPTION(name, `unknown origin "${String(keys[0])}": expected root, url or load`)
}
