// The framework-agnostic core: CloudFront policies, keys, signing, verifying, and the grant engine.
// Nothing in this folder knows about Fastify, Express or HTTP servers.
export * from './errors.js'
export { MAX_EPOCH_SECONDS, toEpochSeconds, parseDuration, type TimeInput, type DurationInput } from './time.js'
export { encodeBase64, decodeBase64 } from './encoding.js'
export { normaliseClientIp, parseCidrOption } from './ip.js'
export { loadPrivateKey, loadPublicKey, type KeyInput, type KeyType, type LoadedKey } from './keys.js'
export { cannedPolicy, customPolicy, parsePolicy, checkPolicy, type PolicyStatement } from './policy.js'
export { checkResource, checkUrlToSign, RESERVED_QUERY_PARAMS, MAX_URL_BYTES } from './resource.js'
export { splitUrl, globMatch, resourceMatches, hasWildcard } from './url.js'
export {
  createSigner, type Signer, type SignerOptions, type SignUrlOptions, type SignCookiesOptions,
  type TimeOptions, type CloudFrontCookies, type HashAlgorithm, type CustomSignFunction, type PreparedPolicy
} from './signer.js'
export { createVerifier, type Verifier, type VerifierOptions, type VerifyRequest, type VerifyResult, type VerifyErrorCode } from './verifier.js'
export {
  readCloudFrontCookies, serializeCookieSet, serializeClearCookies, CLOUDFRONT_COOKIE_NAMES,
  MAX_COOKIE_BYTES, MAX_COOKIE_PATH_BYTES, type CookieAttributes, type SameSite
} from './cookies.js'
export {
  GrantEngine, combineIssued, mergeSetCookie, privateCacheControl, type GrantEngineOptions, type GrantRule, type GrantRuleSettings,
  type SigningKey, type CookieOptions, type GetUserFunction, type AuthorizeFunction, type UserId, type PendingGrant,
  type ClientInfo, type Issued, type GrantStats, type MaybePromise, type GrantResult, type ExplicitGrantOptions,
  type GrantApi, type GrantInstanceApi
} from './grants.js'
export { compilePattern, matchPattern, defaultParamCheck, type ParamCheck } from './rules.js'
export { diagnose, diagnoseHar, type DoctorInput, type DoctorReport, type DoctorCode, type Finding, type Severity, type HarOptions } from './doctor/index.js'
