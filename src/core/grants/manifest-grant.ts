import { flat } from '../cookies.js'
import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_MANIFEST_PATH } from '../errors.js'
import { refuseUnknownKeys } from '../guards.js'
import { checkManifestPath } from '../manifests/url.js'
import { playlistLifetime } from '../playlists/lifetime.js'
import type { GrantEngine } from './engine.js'
import { optionalBoolean } from './options.js'
import { slotOf, type PendingGrant } from './rule-book.js'
import type { ManifestGrantOptions } from './types.js'

// A manifest URL is a grant of the prefix of the rule whose resource covers the manifest: the
// same pending grant as the rule's (so the same cached set), stretched as a mirrored playlist's
// when the stream's duration is given: a player keeps the manifest's query for the whole viewing.

const MANIFEST_GRANT_KEYS = ['duration', 'ipBound', 'authorized'] as const

/**
 * The pending grant for the manifest at `path`. Throws FST_ERR_CF_MANIFEST_PATH (400) for a path no rule's resource
 * covers as written, or not a file under it, and FST_ERR_CF_INVALID_OPTION for bad options or without `manifests`.
 */
export function manifestGrant<Req> (
  engine: GrantEngine<Req>, path: unknown, options: ManifestGrantOptions = {}
): PendingGrant<Req> {
  const manifests = engine.manifests
  if (manifests === null) {
    throw new FST_ERR_CF_INVALID_OPTION('manifests.templates', 'manifestUrl() signs templated manifests: set ' +
      'manifests: { templates: dir }, the folder "cloudfront-cookies manifests template" wrote')
  }
  if (typeof options !== 'object' || options === null) {
    throw new FST_ERR_CF_INVALID_OPTION('manifestUrl options', 'expected { duration?, ipBound?, authorized? }')
  }
  refuseUnknownKeys(options, MANIFEST_GRANT_KEYS, 'manifestUrl options')
  const duration = options.duration
  if (duration !== undefined && (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)) {
    throw new FST_ERR_CF_INVALID_OPTION('duration', 'expected the stream\'s length in seconds')
  }
  optionalBoolean(options.ipBound, 'ipBound')
  optionalBoolean(options.authorized, 'authorized')
  // Checked before the rules read it: a hostile spelling is the path's refusal, never "not covered".
  checkManifestPath(path, '/')
  let covering: ReturnType<GrantEngine<Req>['coveringRule']>
  try {
    covering = engine.coveringRule(path as string)
  } catch {
    covering = null
  }
  if (covering === null) {
    throw new FST_ERR_CF_MANIFEST_PATH('no rule\'s resource covers it as written: give the CDN path of a file ' +
      'under a rule\'s resource, spelt as the rule spells it')
  }
  checkManifestPath(path, covering.prefix)
  const p = engine.pending(covering.rule, covering.params)
  let rule = p.rule
  if (options.authorized === true) rule = { ...rule, authorize: undefined }
  if (options.ipBound !== undefined) rule = { ...rule, ipBound: options.ipBound }
  if (duration === undefined) return rule === p.rule ? p : { ...p, rule }
  const lifetime = playlistLifetime(rule, duration, manifests.lifetimes)
  return { ...p, rule: { ...rule, ...lifetime }, slot: flat(slotOf(p.path, '', lifetime.ttl)) }
}
