// Cookie-less playback: HLS playlists and DASH MPDs rewritten so that every media URI carries the user's signed
// query, for players that cannot hold CloudFront cookies. Framework-agnostic, like the rest of core.
export {
  rewritePlaylist, compilePlaylist, renderPlaylist, type RewritePlaylistOptions,
  type CompiledPlaylist
} from './rewrite.js'
export { rewriteMpd, compileMpd, renderMpd, xmlQuery, type RewriteMpdOptions } from './mpd-rewrite.js'
export {
  readMpd, MpdReader, isDashNamespace, DASH_NAMESPACE, type MpdElement, type MpdAttribute, type MpdContent,
  type MpdHandlers
} from './mpd-reader.js'
export type { PlaylistContext } from './context.js'
export { playlistLifetime, type Lifetime, type PlaylistLifetimeSettings } from './lifetime.js'
export { createLoader, fileFor, type PlaylistOrigin, type PlaylistLoader } from './origin.js'
export { negotiateEncoding, type PlaylistEncoding } from './compress.js'
export {
  PlaylistMirror, type PlaylistsOptions, type PlaylistAccess, type CoveredPath, type SignedQuery, type PlaylistResponse
} from './mirror.js'
