import { readFileSync } from 'node:fs'
import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import { KEY_ID_RE } from '../keys.js'
import type { ResolvedSettings } from './reference.js'

// The key pair ID is written into every templated URI as a constant: a manifest templated for one
// key opens nothing once the app signs with another. The sidecar, written beside the templates,
// lets the app know which key they name, and refuse to hand out a URL that could not play.

/** The sidecar's name, at the top of the templated folder. */
export const SIDECAR = '.cloudfront-manifests.json'

/** What the templates of a folder were made for. */
export interface ManifestTemplates {
  keyPairId: string
  hashAlgorithm: 'SHA1' | 'SHA256'
}

/** The sidecar's text: the settings and the manifests templated, for people and for `readManifestTemplates`. */
export function sidecarText (settings: ResolvedSettings, manifests: string[]): string {
  return JSON.stringify({
    format: 'fastify-cloudfront-cookies static manifests',
    version: 1,
    keyPairId: settings.keyPairId,
    hashAlgorithm: settings.hashAlgorithm,
    ...(settings.baseUrl === null ? {} : { baseUrl: settings.baseUrl.href }),
    manifests
  }, null, 2) + '\n'
}

/**
 * Reads the sidecar a template wrote (the file itself, or the folder holding it). Throws
 * FST_ERR_CF_INVALID_OPTION when it is missing or not one.
 */
export function readManifestTemplates (path: string): ManifestTemplates {
  const file = path.endsWith('.json') ? path : path.replace(/[/\\]?$/, '/') + SIDECAR
  let data: { keyPairId?: unknown, hashAlgorithm?: unknown, version?: unknown }
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    const why = (err as { code?: string }).code ?? 'not JSON'
    throw new FST_ERR_CF_INVALID_OPTION('templates', `cannot read ${file} (${why}): ` +
      'template the manifests with "cloudfront-cookies manifests template", which writes it')
  }
  if (data?.version !== 1 || typeof data.keyPairId !== 'string' || !KEY_ID_RE.test(data.keyPairId) ||
    (data.hashAlgorithm !== 'SHA1' && data.hashAlgorithm !== 'SHA256')) {
    throw new FST_ERR_CF_INVALID_OPTION('templates',
      `${file} is not a sidecar written by "cloudfront-cookies manifests template"`)
  }
  return { keyPairId: data.keyPairId, hashAlgorithm: data.hashAlgorithm }
}
