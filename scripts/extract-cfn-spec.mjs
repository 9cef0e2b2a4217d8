// Writes test/fixtures/cloudformation/resource-spec.json: the part of the CloudFormation resource
// specification that covers the resource types `cloudfront-cookies setup` emits, in the format
// the `cfn-lint` devDependency reads. That linter's own copy of the specification predates
// CloudFront key groups, cache policies, response headers policies and origin access control, so
// the tests extend it with this extract.
//
// Usage: node scripts/extract-cfn-spec.mjs <specification.json>
// (the CloudFormation resource specification, such as spec/specification.json in the
// @aws-cdk/cfnspec package, or CloudFormationResourceSpecification.json as AWS publishes it)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const TYPES = [
  'AWS::CloudFront::PublicKey',
  'AWS::CloudFront::KeyGroup',
  'AWS::CloudFront::OriginAccessControl',
  'AWS::CloudFront::CachePolicy',
  'AWS::CloudFront::ResponseHeadersPolicy',
  'AWS::CloudFront::Distribution',
  'AWS::S3::BucketPolicy',
  'AWS::Route53::RecordSet'
]

const [from] = process.argv.slice(2)
if (from === undefined) {
  process.stderr.write('Usage: node scripts/extract-cfn-spec.mjs <specification.json>\n')
  process.exit(2)
}
const spec = JSON.parse(readFileSync(from, 'utf8'))

// Documentation links are dropped: the linter does not need them, and they are most of the bytes.
function withoutDocs (value) {
  if (Array.isArray(value)) return value.map(withoutDocs)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'Documentation').map(([k, v]) => [k, withoutDocs(v)]))
}

const resourceTypes = {}
for (const type of TYPES) {
  if (spec.ResourceTypes[type] === undefined) throw new Error(`${from} has no ${type}`)
  resourceTypes[type] = withoutDocs(spec.ResourceTypes[type])
}
const propertyTypes = {}
for (const [name, value] of Object.entries(spec.PropertyTypes)) {
  if (TYPES.some((type) => name.startsWith(`${type}.`))) propertyTypes[name] = withoutDocs(value)
}
mkdirSync('test/fixtures/cloudformation', { recursive: true })
writeFileSync('test/fixtures/cloudformation/resource-spec.json', JSON.stringify({
  ResourceSpecificationVersion: spec.ResourceSpecificationVersion,
  ResourceTypes: resourceTypes,
  PropertyTypes: propertyTypes
}, null, 1) + '\n')
process.stdout.write(`resource specification ${spec.ResourceSpecificationVersion}: ${TYPES.length} resource types, ${Object.keys(propertyTypes).length} property types\n`)
