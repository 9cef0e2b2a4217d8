// The CloudFront side of signed cookies, as a CloudFormation template (`cloudfront-cookies setup`).
export { cloudFrontTemplate, templateFor, publicKeyLogicalId, LOGICAL_IDS, CLOUDFRONT_HOSTED_ZONE_ID, type CloudFormationTemplate, type TemplateResource, type Json } from './template.js'
export { resolveSetup, publicHalfCommand, MAX_KEYS_PER_GROUP, type SetupOptions, type ResolvedSetup, type SetupPublicKey } from './options.js'
