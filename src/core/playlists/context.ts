import { invalid } from '../guards.js'
import { pathCharSource, RAW_PATH_RE } from '../url.js'

/** Where a playlist sits and what its rewrite may sign. */
export interface PlaylistContext {
  /** The CDN path of the playlist, raw: `/courses/42/720p/index.m3u8`. Relative URIs resolve against it. */
  playlistPath: string
  /** The CDN base URL: `https://media.example.com` (no path). */
  distribution: string
  /** The granted prefix, starting and ending with `/`: `/courses/42/`. Media URIs under it are signed. */
  prefix: string
  /** The app's mirror prefix: `/hls` (no trailing `/`). Playlist URIs on the distribution point there. */
  mirror: string
  /**
   * A media URI out of the prefix (another host, or `../` out of it): `'refuse'` (default) throws
   * FST_ERR_CF_PLAYLIST_OUTSIDE; `'keep'` leaves it unsigned, pointing where it pointed.
   */
  outside?: 'refuse' | 'keep'
}

const kResolved = Symbol('resolved playlist context')

/** A checked context, with the values the rewrite compares against. */
export interface ResolvedContext {
  readonly [kResolved]: true
  readonly base: URL
  /** `scheme://host[:port]` as the WHATWG URL parser writes it. */
  readonly origin: string
  readonly prefix: string
  readonly mirror: string
  readonly outside: 'refuse' | 'keep'
}

const SEGMENT = `${pathCharSource({ star: false })}+`
const PREFIX_RE = new RegExp(`^/(?:${SEGMENT}/)*$`)
const MIRROR_RE = new RegExp(`^(?:/${SEGMENT})+$`)

/** Checks a context once; a resolved one is returned as it is. */
export function resolveContext (ctx: PlaylistContext | ResolvedContext): ResolvedContext {
  if (typeof ctx !== 'object' || ctx === null) {
    invalid('playlist context',
      'expected { playlistPath, distribution, prefix, mirror }')
  }
  if ((ctx as ResolvedContext)[kResolved] === true) return ctx as ResolvedContext
  const c = ctx as PlaylistContext
  let dist: URL | null = null
  try {
    if (typeof c.distribution === 'string') dist = new URL(c.distribution)
  } catch {}
  if (dist === null || (dist.protocol !== 'https:' && dist.protocol !== 'http:') || dist.pathname !== '/' ||
    dist.search !== '' ||
    dist.username !== '' || /\/./.test(c.distribution.slice(dist.protocol.length + 2))) {
    invalid('distribution', 'expected the CDN base URL, such as "https://media.example.com" (no path)')
  }
  if (typeof c.prefix !== 'string' || !PREFIX_RE.test(c.prefix) || c.prefix.split('/').some((s) => s === '.' ||
    s === '..')) {
    invalid('prefix', 'expected the granted CDN prefix, starting and ending with "/", such as "/courses/42/"')
  }
  if (typeof c.mirror !== 'string' || !MIRROR_RE.test(c.mirror) || c.mirror.split('/').some((s) => s === '.' ||
    s === '..')) {
    invalid('mirror', 'expected the app path the playlists are mirrored under, such as "/hls" (starting with "/", no ' +
      'trailing "/")')
  }
  if (typeof c.playlistPath !== 'string' || !RAW_PATH_RE.test(c.playlistPath)) {
    invalid('playlistPath', 'expected the raw CDN path of the playlist, such as "/courses/42/index.m3u8"')
  }
  const outside = c.outside ?? 'refuse'
  if (outside !== 'refuse' && outside !== 'keep') invalid('outside', 'expected "refuse" or "keep"')
  return {
    [kResolved]: true,
    base: new URL(c.playlistPath, dist.origin),
    origin: dist.origin,
    prefix: c.prefix,
    mirror: c.mirror,
    outside
  }
}
