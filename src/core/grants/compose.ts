import { PlaylistMirror, type PlaylistResponse } from '../playlists/mirror.js'
import { GrantEngine } from './engine.js'
import { resolveGrantOptions } from './options.js'
import { playlistAccess, type PlaylistClient, type PlaylistGrant } from './playlist-access.js'
import type { ClientInfo, GrantDecision, GrantOptions } from './types.js'

// What both adapters are built on: the engine, and the playlist mirror over it when the options
// ask for one. The engine knows nothing of the mirror; the mirror knows the engine only through
// playlistAccess.

/** The playlist mirror as the adapters use it. */
export interface Playlists<Req> {
  /** The app path prefix, without trailing `/`. */
  readonly prefix: string
  /** The CDN path a mirror path stands for, or null. */
  cdnPathOf: (path: string) => string | null
  /** Answers a mirror request (see PlaylistMirror.serve). */
  serve: (
    request: Req, client: ClientInfo, path: string, acceptEncoding: string | undefined
  ) => PlaylistResponse | Promise<PlaylistResponse>
}

export interface GrantServices<Req> {
  engine: GrantEngine<Req>
  playlists: Playlists<Req> | null
}

/**
 * Checks every option and builds the engine and, with `playlists`, the mirror. Throws a coded error
 * naming the option for a bad one. `log` is the adapter's own report of decisions, besides `onDecision`.
 */
export function createGrantServices<Req> (
  options: GrantOptions<Req>, log?: (request: Req, decision: GrantDecision) => void
): GrantServices<Req> {
  const settings = resolveGrantOptions(options)
  const engine = new GrantEngine<Req>(settings, log)
  if (settings.playlists === undefined) return { engine, playlists: null }
  const access = playlistAccess(engine, settings.now)
  const mirror = new PlaylistMirror<Req, PlaylistGrant<Req>, PlaylistClient<Req>>(settings.playlists, access)
  return {
    engine,
    playlists: {
      prefix: mirror.prefix,
      cdnPathOf: (path) => mirror.cdnPathOf(path),
      serve: (request, client, path, acceptEncoding) => mirror.serve(request, { request, client }, path, acceptEncoding)
    }
  }
}
