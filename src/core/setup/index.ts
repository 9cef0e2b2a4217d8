// The CloudFront side of signed cookies, as a CloudFormation template (`cloudfront-cookies setup`).
export {
  cloudFrontTemplate, templateFor, publicKeyLogicalId, type CloudFormationTemplate, type TemplateResource,
  type Json
} from './template.js'
export {
  resolveSetup, publicHalfCommand, type SetupOptions, type ResolvedSetup,
  type SetupPublicKey
} from './options.js'
