import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_MANIFEST_KEY, FST_ERR_CF_MANIFEST_PATH } from '../errors.js'
import { isCdnPath } from '../paths.js'
import type { ManifestTemplates } from './sidecar.js'

// The app's whole part in static-manifest playback: one URL per user and manifest, the grant's
// signed query appended to a manifest the CDN serves as it is stored. The player takes the query
// from there (EXT-X-DEFINE:QUERYPARAM, DASH Annex I) for every other request; the app is asked again
// only when the grant must be renewed.

/** What a manifest URL is made from: a grant for a prefix (the plugin's and middleware's grant result). */
export interface SignedPrefix {
  readonly prefix: string
  signedQuery: () => string
}

export interface ManifestUrlOptions {
  /** The CDN base URL: `https://media.example.com` (no path). */
  distribution: string
  /** What the manifests were templated for (`readManifestTemplates(outDir)`): a URL for another key is refused. */
  templates: ManifestTemplates
}

function queryValue (query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    if (pair.startsWith(name + '=')) return pair.slice(name.length + 1)
  }
  return undefined
}

/**
 * The signed URL of the templated manifest at `path` (a raw CDN path under the grant's prefix):
 * `distribution + path + '?' + grant.signedQuery()`. Refuses (FST_ERR_CF_MANIFEST_PATH) a path
 * outside the prefix or spelt so that a CDN or an origin could read another file (dot segments,
 * escapes, `\`, a query), and (FST_ERR_CF_MANIFEST_KEY) a grant signed with a key pair ID or hash
 * algorithm the templates do not name: the manifests would then play for nobody.
 */
export function signedManifestUrl (grant: SignedPrefix, path: string, options: ManifestUrlOptions): string {
  const distribution = options?.distribution
  let dist: URL | null = null
  try {
    if (typeof distribution === 'string') dist = new URL(distribution)
  } catch {}
  if (dist === null || (dist.protocol !== 'https:' && dist.protocol !== 'http:') || dist.origin !== distribution) {
    throw new FST_ERR_CF_INVALID_OPTION('distribution', 'expected the CDN base URL, such as "https://media.example.com" (no path, no trailing "/")')
  }
  const templates = options.templates
  if (typeof templates !== 'object' || templates === null || typeof templates.keyPairId !== 'string') {
    throw new FST_ERR_CF_INVALID_OPTION('templates',
      'expected what the manifests were templated for: readManifestTemplates(folder)')
  }
  const prefix = grant?.prefix
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || !prefix.endsWith('/')) {
    throw new FST_ERR_CF_INVALID_OPTION('grant', 'expected a grant result, with its prefix and signedQuery()')
  }
  checkManifestPath(path, prefix)
  const query = grant.signedQuery()
  if (typeof query !== 'string' || queryValue(query, 'Policy') === undefined ||
    queryValue(query, 'Signature') === undefined) {
    throw new FST_ERR_CF_MANIFEST_KEY('the grant holds no signed prefix policy (Policy and Signature)')
  }
  checkTemplatesKey(templates, queryValue(query, 'Key-Pair-Id'), queryValue(query, 'Hash-Algorithm') ?? 'SHA1')
  return distribution + path + '?' + query
}

/**
 * Refuses (FST_ERR_CF_MANIFEST_PATH) a manifest path (raw) that is not a file under `prefix`, or that is spelt so
 * that a CDN or an origin could read another file: dot segments, escapes, `\`, a query.
 */
export function checkManifestPath (path: unknown, prefix: string): void {
  if (typeof path !== 'string' || !isCdnPath(path)) {
    throw new FST_ERR_CF_MANIFEST_PATH('the path must be a raw CDN path without dot segments (also ' +
      'percent-encoded), backslashes, needless escapes, a query or characters a URL path cannot hold')
  }
  // Compared raw, as CloudFront compares the policy's Resource with the URL on the wire.
  if (!path.startsWith(prefix) || path.length === prefix.length) {
    const shown = JSON.stringify(path.length > 200 ? path.slice(0, 200) + '…' : path)
    throw new FST_ERR_CF_MANIFEST_PATH(`${shown} is not a file under the granted prefix ${prefix}`)
  }
}

/**
 * Refuses (FST_ERR_CF_MANIFEST_KEY) a signing key other than the one the templates name, with the
 * command that templates them for it: their URIs would ask CloudFront for the wrong key.
 */
export function checkTemplatesKey (
  templates: ManifestTemplates, keyPairId: string | undefined, hashAlgorithm: string
): void {
  if (keyPairId === templates.keyPairId && hashAlgorithm === templates.hashAlgorithm) return
  const sha256 = hashAlgorithm === 'SHA256' ? ' --hash-algorithm SHA256' : ''
  throw new FST_ERR_CF_MANIFEST_KEY(`the manifests are templated for key ${templates.keyPairId} ` +
    `(${templates.hashAlgorithm}) and the app signs with ${keyPairId ?? 'no key'} (${hashAlgorithm}): template them ` +
    `again with "cloudfront-cookies manifests template <in-dir> <out-dir> --key-pair-id ${keyPairId ?? '<id>'}` +
    `${sha256}" and publish them, or keep serving the old ones, signed with the old key, until its grants expire`)
}
