// What the package root exports: exactly the list in the README's API section (a test compares
// them). Everything else is private to the package and imported from its own file.
export { fastifyCloudfrontCookies, default } from './fastify/index.js'
export type {
  FastifyCloudfrontCookiesOptions, CloudfrontRouteOptions, CloudfrontReply, CloudfrontDecorator
} from './fastify/index.js'
export * from './core/errors.js'
export {
  createSigner, type Signer, type SignerOptions, type SignUrlOptions, type SignCookiesOptions, type TimeOptions,
  type CloudFrontCookies, type HashAlgorithm, type CustomSignFunction
} from './core/signer.js'
export {
  createVerifier, type Verifier, type VerifierOptions, type VerifyRequest, type VerifyResult, type VerifyErrorCode
} from './core/verifier.js'
export {
  diagnose, diagnoseHar, type DoctorInput, type HarOptions, type DoctorReport, type Finding, type DoctorCode,
  type Severity
} from './core/doctor/index.js'
export type {
  GrantOptions, GrantRule, GrantRuleSettings, SigningKey, CookieOptions, GetUserFunction, AuthorizeFunction, UserId,
  GrantResult, ExplicitGrantOptions, ManifestGrantOptions, ManifestsOptions, GrantStats
} from './core/grants/types.js'
export type { ParamCheck } from './core/grants/patterns.js'
export type { KeyInput, KeyType } from './core/keys.js'
export type { DurationInput, TimeInput } from './core/time.js'
export type { SameSite } from './core/cookies.js'
export { rewritePlaylist, type RewritePlaylistOptions } from './core/playlists/rewrite.js'
export { rewriteMpd, type RewriteMpdOptions } from './core/playlists/mpd/rewrite.js'
export {
  templateManifests, type TemplateReport, type TemplatedManifest, type TemplateSettings
} from './core/manifests/index.js'
export type { PlaylistsOptions } from './core/playlists/mirror.js'
export type { PlaylistOrigin } from './core/playlists/origin.js'
