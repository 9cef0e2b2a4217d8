import { LRUCache } from 'lru-cache'
import {
  FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_PLAYLIST_FORBIDDEN, FST_ERR_CF_PLAYLIST_NOT_FOUND, FST_ERR_CF_PLAYLIST_NO_USER,
  FST_ERR_CF_PLAYLIST_TOO_LARGE
} from '../errors.js'
import { parseDuration, type DurationInput } from '../time.js'
import { compileMpdInSlices, xmlQuery } from './mpd-rewrite.js'
import {
  compilePlaylistInSlices, renderPlaylistBody, renderPlaylistBodyInSlices, renderedSize, DEFAULT_MAX_URIS,
  type CompiledPlaylist
} from './rewrite.js'
import { checkOriginPath } from '../paths.js'
import { resolveContext } from './context.js'
import { variableName, withVariable } from './variables.js'
import { createLoader, type PlaylistOrigin } from './origin.js'
import { PlaylistSources } from './sources.js'
import { playlistLifetime, type Lifetime } from './lifetime.js'
import { compressBody, negotiateEncoding, MIN_COMPRESS_BYTES, type PlaylistEncoding } from './compress.js'
import { isThenable, positive, refuseUnknownKeys } from '../guards.js'

// The playlist mirror: `GET <prefix>/courses/42/720p/index.m3u8` answers the CDN's
// `/courses/42/720p/index.m3u8`, rewritten for the signed-in user; a DASH MPD (`.mpd`) likewise.
// Who may have it and the signed query come from the grant engine (through PlaylistAccess); the rest
// is here, so that the Fastify plugin and the Express middleware only copy a PlaylistResponse onto
// their response.

/** The `playlists` option of the plugin and the middleware. */
export interface PlaylistsOptions {
  /** The app path the mirror answers under: `'/hls'`. */
  prefix: string
  /** Where the source playlists are: `{ root: dir }`, `{ url }` or `{ load: async (cdnPath) => text }`. */
  origin: PlaylistOrigin
  /** A media URI out of the granted prefix: `'refuse'` the playlist (default, answered 502) or `'keep'` it unsigned. */
  outside?: 'refuse' | 'keep'
  /** Added to a playlist's duration when its grant is stretched (default `'1m'`). */
  margin?: DurationInput
  /** Longest a playlist grant is stretched to (default `'12h'`). */
  maxTtl?: DurationInput
  /** Largest source playlist, in bytes (default 4 MiB). */
  maxBytes?: number
  /**
   * Milliseconds an origin may take (default 10,000): an `{ url }` exchange, headers and body; a file read;
   * a `load` call.
   */
  timeout?: number
  /** Most playlists loaded from the origin at once (default 32); more is answered 503 FST_ERR_CF_PLAYLIST_BUSY. */
  maxLoads?: number
  /** Source playlists kept: count and bytes (default 1,000 and 32 MiB). */
  cache?: { max?: number, maxBytes?: number }
  /** Most URIs in one playlist (default 10,000): a longer one is answered 502, not rewritten. */
  maxUris?: number
  /**
   * Largest rewritten playlist, in bytes (default 8 MiB, at most responseCacheBytes): a larger one is answered
   * 502, not rendered.
   */
  maxRenderedBytes?: number
  /** Rewritten (and compressed) responses kept, in bytes (default 64 MiB). */
  responseCacheBytes?: number
  /** Compress responses for clients that accept br or gzip (default true). */
  compress?: boolean
  /**
   * Media playlists carry the query once, in EXT-X-DEFINEs (HLS version 8): true (`cfq`, `cfqb`), or the
   * query's variable name (default off).
   */
  variables?: boolean | string
}

/** What the grant engine tells the mirror about a CDN path. */
export interface CoveredPath {
  /** The granted prefix: `/courses/42/`. */
  prefix: string
  /** The rule's own lifetime (seconds). */
  lifetime: Lifetime
}

/** The mirror's view of the grant engine; `G` is whatever the engine needs to sign later. */
export interface PlaylistAccess<Req, G extends CoveredPath, C = unknown> {
  /** The rule grant whose resource covers a raw CDN path, or null. Throws FST_ERR_CF_INVALID_PARAM (400). */
  cover: (cdnPath: string) => G | null
  /** The signed-in user when `authorize` grants them the path; null without a user, false when refused. */
  admit: (request: Req, grant: G) => string | null | false | PromiseLike<string | null | false>
  /**
   * The user's signed query for the grant's prefix with this lifetime (served from the engine's cache
   * when it can); null when the client cannot have one (an IPv6 client of an IP-bound grant).
   */
  sign: (client: C, user: string, grant: G, lifetime: Lifetime) => SignedQuery | null | PromiseLike<SignedQuery | null>
  /** The CDN base URL. */
  distribution: string
  /** The response header with the grant's expiry, or false. */
  expiresHeader: string | false
  /** Signs a URL with the app's key (for an `{ url }` origin that is the CDN itself). */
  signUrl: (url: string, options: { expiresIn: number }) => Promise<string>
  now: () => number
}

export interface SignedQuery {
  /** `Policy=…&Signature=…&Key-Pair-Id=…`. */
  query: string
  /** Epoch seconds. */
  expires: number
}

/** A mirrored playlist, ready to be written by an adapter. */
export interface PlaylistResponse {
  headers: Readonly<Record<string, string>>
  body: Buffer
}

const HLS_TYPE = 'application/vnd.apple.mpegurl'
const DASH_TYPE = 'application/dash+xml'

/**
 * Whether a source is a DASH MPD (or a remote element of one): a `.mpd` path, or text that starts
 * as XML does. Anything else is read as HLS, which starts with "#EXTM3U" (and refused otherwise).
 * A `.m3u8` or `.m3u` path is always HLS: a player that asked for it reads it as HLS, so XML in it
 * is refused rather than served as an MPD.
 */
export function isMpd (cdnPath: string, text: string): boolean {
  const path = cdnPath.toLowerCase()
  if (path.endsWith('.mpd')) return true
  if (path.endsWith('.m3u8') || path.endsWith('.m3u')) return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // A byte order mark, then XML white space.
    if (c === 0xfeff || c === 32 || c === 9 || c === 10 || c === 13) continue
    return c === 60 /* < */
  }
  return false
}

/** Response cache keys remembered (see PlaylistMirror.keyOf): at most about 2,048 × 700 bytes. */
const KEY_MEMO_SIZE = 2048

/** Bodies up to this size are rendered at once (about a millisecond); larger ones in slices. */
const SYNC_RENDER_BYTES = 1024 * 1024

/** One playlist for one signed query, in each encoding asked for so far. */
class Rendered {
  readonly bodies = new Map<PlaylistEncoding, Buffer>()
  readonly headers = new Map<PlaylistEncoding, Record<string, string>>()
  size: number
  constructor (
    readonly compiled: CompiledPlaylist,
    readonly identity: Buffer,
    private readonly base: Record<string, string>
  ) {
    this.bodies.set('identity', identity)
    this.headers.set('identity', base)
    this.size = identity.length
  }

  add (encoding: PlaylistEncoding, body: Buffer): void {
    this.bodies.set(encoding, body)
    this.headers.set(encoding, { ...this.base, 'content-encoding': encoding })
    this.size += body.length
  }
}

const PLAYLISTS_KEYS = [
  'prefix', 'origin', 'outside', 'margin', 'maxTtl', 'maxBytes', 'maxUris', 'maxRenderedBytes', 'maxLoads', 'timeout',
  'cache', 'responseCacheBytes', 'compress', 'variables'
]

export class PlaylistMirror<Req, G extends CoveredPath, C = unknown> {
  /** The app path prefix, without trailing `/`. */
  readonly prefix: string
  private readonly sources: PlaylistSources
  private readonly responses: LRUCache<string, Rendered>
  private readonly compress: boolean
  /** Variables mode: bodies as small as the source, compressed harder (compress.ts). */
  private readonly compact: boolean
  private readonly lifetimes: { margin: number, maxTtl: number }
  private readonly maxRenderedBytes: number
  /** Large renderings in progress, shared by concurrent requests. */
  private readonly rendering = new Map<string, Promise<Rendered>>()
  /** Response cache keys by signed query, then CDN path (see keyOf). */
  private readonly keys = new Map<string, Map<string, string>>()
  private keyCount = 0

  constructor (options: PlaylistsOptions, private readonly access: PlaylistAccess<Req, G, C>) {
    if (typeof options !== 'object' || options === null) {
      throw new FST_ERR_CF_INVALID_OPTION('playlists', "expected { prefix: '/hls', origin: { root: dir } }")
    }
    refuseUnknownKeys(options, PLAYLISTS_KEYS, 'playlists')
    const prefix = options.prefix
    // Checked as the rewrite checks it: the same value becomes the playlist URIs' path. Every other
    // value of this context is fixed or checked already: a refusal is the prefix's.
    try {
      resolveContext({ playlistPath: '/', distribution: access.distribution, prefix: '/', mirror: prefix })
    } catch {
      throw new FST_ERR_CF_INVALID_OPTION('playlists.prefix', 'expected the app path the playlists are mirrored ' +
        'under, such as "/hls" (starting with "/", no trailing "/", no dot segments)')
    }
    this.prefix = prefix
    if (options.outside !== undefined && options.outside !== 'refuse' && options.outside !== 'keep') {
      throw new FST_ERR_CF_INVALID_OPTION('playlists.outside', 'expected "refuse" or "keep"')
    }
    if (options.compress !== undefined && typeof options.compress !== 'boolean') {
      throw new FST_ERR_CF_INVALID_OPTION('playlists.compress', 'expected true or false')
    }
    this.compress = options.compress ?? true
    this.lifetimes = {
      margin: options.margin === undefined ? 60 : parseDuration(options.margin, 'playlists.margin'),
      maxTtl: options.maxTtl === undefined ? 12 * 3600 : parseDuration(options.maxTtl, 'playlists.maxTtl')
    }
    const load = createLoader(options.origin, {
      distribution: access.distribution,
      signUrl: access.signUrl,
      maxBytes: positive(options.maxBytes, 'playlists.maxBytes', 4 * 1024 * 1024),
      timeout: positive(options.timeout, 'playlists.timeout', 10_000)
    })
    const outside = options.outside ?? 'refuse'
    const mirror = prefix
    const distribution = access.distribution
    const variable = variableName(options.variables, 'playlists.variables')
    this.compact = variable !== null
    const limits = { maxUris: positive(options.maxUris, 'playlists.maxUris', DEFAULT_MAX_URIS) }
    this.sources = new PlaylistSources(load, async (playlistPath, text, granted) => {
      const context = { playlistPath, distribution, prefix: granted, mirror, outside }
      // The same grant, bounds and refusals for both formats; variables are HLS's own.
      if (isMpd(playlistPath, text)) return await compileMpdInSlices(text, context, limits)
      const compiled = await compilePlaylistInSlices(text, context, limits)
      return variable === null ? compiled : withVariable(compiled, variable)
    }, {
      max: positive(options.cache?.max, 'playlists.cache.max', 1000),
      maxBytes: positive(options.cache?.maxBytes, 'playlists.cache.maxBytes', 32 * 1024 * 1024),
      maxLoads: positive(options.maxLoads, 'playlists.maxLoads', 32),
      now: access.now
    })
    const responseCacheBytes = positive(options.responseCacheBytes, 'playlists.responseCacheBytes', 64 * 1024 * 1024)
    this.maxRenderedBytes = positive(options.maxRenderedBytes, 'playlists.maxRenderedBytes',
      Math.min(8 * 1024 * 1024, responseCacheBytes))
    // A rendering the response cache cannot keep would be rendered again on every request.
    if (this.maxRenderedBytes > responseCacheBytes) {
      throw new FST_ERR_CF_INVALID_OPTION('playlists.maxRenderedBytes', `${this.maxRenderedBytes} is more than ` +
        `playlists.responseCacheBytes (${responseCacheBytes}): raise responseCacheBytes or lower maxRenderedBytes`)
    }
    this.responses = new LRUCache<string, Rendered>({
      maxSize: responseCacheBytes,
      sizeCalculation: (r) => r.size + 64
    })
  }

  /** The CDN path a mirror path stands for (`/hls/courses/42/a.m3u8` → `/courses/42/a.m3u8`), or null. */
  cdnPathOf (path: string): string | null {
    if (path.length <= this.prefix.length + 1 || !path.startsWith(this.prefix) ||
      path.charCodeAt(this.prefix.length) !== 47) return null
    return path.slice(this.prefix.length)
  }

  /**
   * Answers a mirror request: `path` is the raw request path (no query). Synchronous when the
   * playlist, the grant and the response are all cached; otherwise a promise. Fails with a coded
   * error: 400 hostile parameter, 401 no user, 403 not authorised, 404 no rule or no playlist,
   * 502 a playlist the mirror cannot rewrite or an origin that failed.
   */
  serve (
    request: Req,
    client: C,
    path: string,
    acceptEncoding: string | undefined
  ): PlaylistResponse | Promise<PlaylistResponse> {
    const cdnPath = this.cdnPathOf(path)
    // Before any rule, user, origin or signature: a path the origin could read as another file is a 400.
    const grant = cdnPath === null ? null : this.access.cover(checkOriginPath(cdnPath))
    if (grant === null) throw new FST_ERR_CF_PLAYLIST_NOT_FOUND('no rule covers this path')
    const encoding = this.compress ? negotiateEncoding(acceptEncoding) : 'identity'
    const who = this.access.admit(request, grant)
    if (isThenable<string | null | false>(who)) {
      return Promise.resolve(who).then((u) => this.admitted(client, u, grant, cdnPath as string, encoding))
    }
    return this.admitted(client, who, grant, cdnPath as string, encoding)
  }

  private admitted (
    client: C,
    user: string | null | false,
    grant: G,
    cdnPath: string,
    encoding: PlaylistEncoding
  ): PlaylistResponse | Promise<PlaylistResponse> {
    if (user === null) throw new FST_ERR_CF_PLAYLIST_NO_USER()
    if (user === false) throw new FST_ERR_CF_PLAYLIST_FORBIDDEN()
    // Loaded only once the user may have it: nobody else can make the app call its origin.
    const compiled = this.sources.get(cdnPath, grant.prefix)
    if (isThenable<CompiledPlaylist>(compiled)) {
      return Promise.resolve(compiled).then((c) => this.withSource(client, user, grant, cdnPath, c, encoding))
    }
    return this.withSource(client, user, grant, cdnPath, compiled, encoding)
  }

  private withSource (
    client: C,
    user: string,
    grant: G,
    cdnPath: string,
    compiled: CompiledPlaylist,
    encoding: PlaylistEncoding
  ): PlaylistResponse | Promise<PlaylistResponse> {
    // A playlist with nothing to sign (a master playlist: its URIs are the mirror's) needs no signature.
    if (compiled.signed === 0) return this.respond(cdnPath, compiled, { query: '', expires: 0 }, encoding)
    const lifetime = playlistLifetime(grant.lifetime, compiled.duration, this.lifetimes)
    const signed = this.access.sign(client, user, grant, lifetime)
    if (isThenable<SignedQuery | null>(signed)) {
      return Promise.resolve(signed).then((s) => this.respond(cdnPath, compiled, s, encoding))
    }
    return this.respond(cdnPath, compiled, signed, encoding)
  }

  private respond (
    cdnPath: string,
    compiled: CompiledPlaylist,
    signed: SignedQuery | null,
    encoding: PlaylistEncoding
  ): PlaylistResponse | Promise<PlaylistResponse> {
    if (signed === null) throw new FST_ERR_CF_PLAYLIST_FORBIDDEN()
    const key = this.keyOf(cdnPath, signed.query)
    const rendered = this.responses.get(key)
    if (rendered !== undefined && rendered.compiled === compiled) return this.encoded(key, rendered, encoding)
    // Known before the work is done: the chunks and a copy of the query between each two.
    // An MPD carries the query XML-escaped ("&amp;").
    const query = compiled.xml === true && signed.query !== '' ? xmlQuery(signed.query) : signed.query
    const size = renderedSize(compiled, Buffer.byteLength(query))
    if (size > this.maxRenderedBytes) {
      throw new FST_ERR_CF_PLAYLIST_TOO_LARGE(`${cdnPath} would be ${size} bytes rewritten, ` +
        `more than ${this.maxRenderedBytes} (playlists.maxRenderedBytes)`)
    }
    const headers: Record<string, string> = {
      'content-type': compiled.xml === true ? DASH_TYPE : HLS_TYPE,
      'cache-control': 'private, no-store',
      vary: 'accept-encoding'
    }
    if (signed.query !== '' && this.access.expiresHeader !== false) {
      headers[this.access.expiresHeader] = String(signed.expires)
    }
    // A large body is copied in slices, the event loop turning between them; concurrent requests share it.
    if (size > SYNC_RENDER_BYTES) {
      let running = this.rendering.get(key)
      if (running === undefined) {
        running = renderPlaylistBodyInSlices(compiled, query).then((body) => this.keep(key, compiled, body, headers))
          .finally(() => this.rendering.delete(key))
        this.rendering.set(key, running)
      }
      return running.then((r) => this.encoded(key, r, encoding))
    }
    return this.encoded(key, this.keep(key, compiled, renderPlaylistBody(compiled, query), headers), encoding)
  }

  /**
   * The response cache key of a playlist and a signed query, `cdnPath + NUL + query`. Made anew, a key of
   * ~700 characters is copied and hashed on each lookup: most of a cached request's time in the mirror.
   * A cached set's query is one string, whose hash V8 keeps, so the key it found last time is found again
   * for the cost of two short lookups. Forgotten all at once when full: the next requests make them again.
   */
  private keyOf (cdnPath: string, query: string): string {
    let byPath = this.keys.get(query)
    let key = byPath?.get(cdnPath)
    if (key !== undefined) return key
    if (this.keyCount >= KEY_MEMO_SIZE) {
      this.keys.clear()
      this.keyCount = 0
      byPath = undefined
    }
    if (byPath === undefined) {
      byPath = new Map()
      this.keys.set(query, byPath)
    }
    key = cdnPath + '\u0000' + query
    byPath.set(cdnPath, key)
    this.keyCount++
    return key
  }

  private keep (key: string, compiled: CompiledPlaylist, body: Buffer, headers: Record<string, string>): Rendered {
    const rendered = new Rendered(compiled, body, headers)
    this.responses.set(key, rendered)
    return rendered
  }

  /** The rendered playlist in the encoding asked for: kept, or compressed now (on the thread pool) and kept. */
  private encoded (
    key: string,
    rendered: Rendered,
    encoding: PlaylistEncoding
  ): PlaylistResponse | Promise<PlaylistResponse> {
    if (encoding === 'identity' || rendered.identity.length < MIN_COMPRESS_BYTES) {
      return { headers: rendered.headers.get('identity') as Record<string, string>, body: rendered.identity }
    }
    const body = rendered.bodies.get(encoding)
    if (body !== undefined) return { headers: rendered.headers.get(encoding) as Record<string, string>, body }
    const r = rendered
    return compressBody(r.identity, encoding, this.compact).then((out) => {
      if (!r.bodies.has(encoding)) {
        r.add(encoding, out)
        // Stored again so that the cache counts the new size.
        if (this.responses.peek(key) === r) this.responses.set(key, r)
      }
      return { headers: r.headers.get(encoding) as Record<string, string>, body: out }
    })
  }
}
