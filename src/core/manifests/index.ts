// Static signed manifests: HLS playlists and DASH MPDs templated once, at publish time, so that the
// CDN serves them as stored and the player carries the manifest URL's signed query to every request.
export { templateHls, QUERYPARAM_VERSION, type HlsTemplate } from './hls.js'
export { templateMpd, URLPARAM_PROPERTY, type MpdTemplate } from './dash.js'
export { templateManifests, type TemplateReport, type TemplatedManifest } from './folder.js'
export type { TemplateSettings } from './reference.js'
export { readManifestTemplates, SIDECAR, type ManifestTemplates } from './sidecar.js'
export { signedManifestUrl, type SignedPrefix, type ManifestUrlOptions } from './url.js'
