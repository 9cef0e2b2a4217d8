import createError from '@fastify/error'

// Every error the library raises is made here, once, with a code users can switch on.
// Messages never interpolate key material: callers pass names and reasons, never key bytes.

/**
 * The errors about one option carry its name, as the caller spelt it (`playlists.prefix`,
 * `behaviors[0].pathPattern`), and the reason alone: a front end (the CLI) names its own spelling of the
 * option (a flag) from them, never by reading the message.
 */
export interface OptionNamed {
  /** The option the error is about; undefined when the code that threw did not know it. */
  option?: string | undefined
  /** What is wrong, without the option's name. */
  readonly reason: string
}

const InvalidKey = createError('FST_ERR_CF_INVALID_KEY', 'Invalid CloudFront key: %s', 500)
/**
 * A private or public key could not be used (wrong type, curve, size, passphrase, or a public key given as private).
 */
export class FST_ERR_CF_INVALID_KEY extends InvalidKey implements OptionNamed {
  option: string | undefined
  readonly reason: string
  constructor (reason: string, option?: string) {
    super(reason)
    this.reason = reason
    this.option = option
  }
}

const InvalidOption = createError('FST_ERR_CF_INVALID_OPTION', 'Invalid option %s: %s', 500)
/** An option given to the signer, the verifier, the plugin, the middleware or the edge is wrong. */
export class FST_ERR_CF_INVALID_OPTION extends InvalidOption implements OptionNamed {
  readonly option: string
  readonly reason: string
  constructor (option: string, reason: string) {
    super(option, reason)
    this.option = option
    this.reason = reason
  }
}

const InvalidTime = createError('FST_ERR_CF_INVALID_TIME', 'Invalid time %s: %s', 500)
/** A time (expires, notBefore, expiresIn, ttl) is not usable in a CloudFront policy. */
export class FST_ERR_CF_INVALID_TIME extends InvalidTime implements OptionNamed {
  readonly option: string
  readonly reason: string
  constructor (option: string, reason: string) {
    super(option, reason)
    this.option = option
    this.reason = reason
  }
}
/** A resource or URL cannot be signed as given. */
export const FST_ERR_CF_INVALID_RESOURCE = createError('FST_ERR_CF_INVALID_RESOURCE', 'Invalid resource: %s', 500)
const InvalidIp = createError('FST_ERR_CF_INVALID_IP', 'Invalid IP address condition: %s', 500)
/** An IP address condition is not one IPv4 address or CIDR. */
export class FST_ERR_CF_INVALID_IP extends InvalidIp implements OptionNamed {
  readonly option: string
  readonly reason: string
  constructor (reason: string, option: string) {
    super(reason)
    this.reason = reason
    this.option = option
  }
}
/** A raw policy given to sign is not a policy CloudFront accepts. */
export const FST_ERR_CF_INVALID_POLICY = createError('FST_ERR_CF_INVALID_POLICY', 'Invalid policy: %s', 500)
/** A route parameter that would be pasted into a resource is not a safe path segment. */
export const FST_ERR_CF_INVALID_PARAM = createError('FST_ERR_CF_INVALID_PARAM',
  'Route parameter "%s" is not allowed in a CloudFront resource: %s', 400)
/** A cookie set would be larger than browsers keep, or its Path too long. */
export const FST_ERR_CF_COOKIE_TOO_LARGE = createError('FST_ERR_CF_COOKIE_TOO_LARGE',
  'CloudFront cookie set too large: %s', 500)
/** Two rules grant prefixes that overlap, so a browser would send two cookie sets. */
export const FST_ERR_CF_OVERLAPPING_RULES = createError('FST_ERR_CF_OVERLAPPING_RULES', 'CloudFront rules overlap: %s',
  500)
/** The signing function failed (custom signer, HSM, KMS). */
export const FST_ERR_CF_SIGN_FAILED = createError('FST_ERR_CF_SIGN_FAILED', 'Signing failed: %s', 500)
/** The command line was given wrong or missing arguments (the CLI exits with status 2). */
export const FST_ERR_CF_CLI_USAGE = createError('FST_ERR_CF_CLI_USAGE', '%s', 500)
/** A playlist cannot be mirrored: not an HLS playlist, or a line the rewrite cannot read safely. */
export const FST_ERR_CF_INVALID_PLAYLIST = createError('FST_ERR_CF_INVALID_PLAYLIST', 'Invalid HLS playlist: %s', 502)
/** A playlist URI leaves the granted prefix, and the mirror is set to refuse such playlists. */
export const FST_ERR_CF_PLAYLIST_OUTSIDE = createError('FST_ERR_CF_PLAYLIST_OUTSIDE',
  'HLS playlist URI outside the grant: %s', 502)
/**
 * A playlist is too large to mirror: more URIs than playlists.maxUris, or a rendering over playlists.maxRenderedBytes.
 */
export const FST_ERR_CF_PLAYLIST_TOO_LARGE = createError('FST_ERR_CF_PLAYLIST_TOO_LARGE',
  'Playlist or MPD too large to mirror: %s', 502)
/** More playlists are being loaded from the origin at once than playlists.maxLoads allows. */
export const FST_ERR_CF_PLAYLIST_BUSY = createError('FST_ERR_CF_PLAYLIST_BUSY', 'Manifest origin busy: %s', 503)
/** The playlist origin has no playlist at this path. */
export const FST_ERR_CF_PLAYLIST_NOT_FOUND = createError('FST_ERR_CF_PLAYLIST_NOT_FOUND',
  'Playlist or MPD not found: %s', 404)
/** The playlist origin failed (a network error, an HTTP error status, a load function that threw). */
export const FST_ERR_CF_PLAYLIST_ORIGIN = createError('FST_ERR_CF_PLAYLIST_ORIGIN',
  'Manifest origin failed: %s', 502)
/** A mirrored playlist was asked for without a signed-in user. */
export const FST_ERR_CF_PLAYLIST_NO_USER = createError('FST_ERR_CF_PLAYLIST_NO_USER',
  'Sign in to get this playlist or MPD', 401)
/** The signed-in user may not have this playlist (`authorize` did not return true). */
export const FST_ERR_CF_PLAYLIST_FORBIDDEN = createError('FST_ERR_CF_PLAYLIST_FORBIDDEN',
  'This playlist or MPD is not granted to the user', 403)
/** An MPD cannot be mirrored: not well-formed XML, not an MPD, or something the rewrite refuses to read (a DOCTYPE). */
export const FST_ERR_CF_INVALID_MPD = createError('FST_ERR_CF_INVALID_MPD', 'Invalid DASH MPD: %s', 502)
/** An MPD URL leaves the granted prefix, and the mirror is set to refuse such MPDs. */
export const FST_ERR_CF_MPD_OUTSIDE = createError('FST_ERR_CF_MPD_OUTSIDE', 'DASH MPD URL outside the grant: %s', 502)
/**
 * A manifest cannot be templated for static signed URLs safely (a URI out of the folder or on another host, a
 * CloudFront name defined already).
 */
export const FST_ERR_CF_MANIFEST_TEMPLATE = createError('FST_ERR_CF_MANIFEST_TEMPLATE',
  'Cannot template manifest: %s', 500)
/** A manifest URL was asked for a path the grant does not cover, or spelt so that a CDN could read it otherwise. */
export const FST_ERR_CF_MANIFEST_PATH = createError('FST_ERR_CF_MANIFEST_PATH', 'Manifest path refused: %s', 400)
/** The templated manifests name another key pair ID (or hash algorithm) than the signer's: template them again. */
export const FST_ERR_CF_MANIFEST_KEY = createError('FST_ERR_CF_MANIFEST_KEY',
  'Templated manifests do not match the signer: %s', 500)
