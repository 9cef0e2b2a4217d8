// The CloudFront template (cloudFrontTemplate): linted by npm's cfn-lint for several argument sets,
// the semantics that decide whether signed cookies work asserted one by one, and each option that
// would deploy and then fail refused with what to change, beside its valid twin.
import t from 'tap'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { cloudFrontTemplate, publicHalfCommand, publicKeyLogicalId, resolveSetup, type CloudFormationTemplate, type SetupOptions } from '../../src/core/setup/index.js'
import { ecKey, rsaKey, rsaKey2 } from '../helpers/keys.js'
import { lint, lintWithStockSpecification, SPEC_TYPES, SPEC_VERSION, valueProblems } from '../helpers/cloudformation.js'

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789'
const BASE: SetupOptions = {
  domain: 'media.example.com',
  app: 'https://app.example.com',
  bucket: 'my-media-bucket',
  certificateArn: CERT,
  publicKeys: rsaKey.publicPem
}

type Obj = Record<string, any>
const props = (tpl: CloudFormationTemplate, id: string): Obj => tpl.Resources[id]?.Properties as Obj
const ofType = (tpl: CloudFormationTemplate, type: string): string[] => Object.keys(tpl.Resources).filter((id) => tpl.Resources[id]?.Type === type)

const SETS: Record<string, SetupOptions> = {
  minimal: BASE,
  'prefix, DNS, bucket region, two keys, two apps': {
    ...BASE,
    app: ['https://app.example.com', 'https://staging.app.example.com'],
    publicKeys: [rsaKey.publicPem, ecKey.publicPem],
    prefix: '/courses/',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    bucketRegion: 'eu-west-1'
  },
  'a long domain, five keys': {
    ...BASE,
    domain: `${'a'.repeat(60)}.${'b'.repeat(60)}.media.example.com`,
    publicKeys: [rsaKey.publicPem, rsaKey2.publicPem, ecKey.publicPem, ...[1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey)]
  }
}

// First, before the linter is extended: what it knows as installed.
t.test('the linter as installed does not know the CloudFront types the template needs', async (t) => {
  // Each resource alone, its references replaced by plain strings: the linter as installed throws
  // on a reference to a type it does not know.
  const tpl = cloudFrontTemplate(BASE)
  const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value), (_k, v) => (v !== null && typeof v === 'object' && ('Fn::GetAtt' in v || 'Ref' in v || 'Fn::Sub' in v) ? 'x' : v))
  for (const type of ['AWS::CloudFront::PublicKey', 'AWS::CloudFront::KeyGroup', 'AWS::CloudFront::OriginAccessControl', 'AWS::CloudFront::CachePolicy', 'AWS::CloudFront::ResponseHeadersPolicy']) {
    const id = ofType(tpl, type)[0] as string
    const r = lintWithStockSpecification({ AWSTemplateFormatVersion: '2010-09-09', Resources: { [id]: plain(tpl.Resources[id]) } })
    t.equal(r.valid, false, `${type} is refused`)
    t.ok(r.crit.some((e) => e.message === `Resource ${id} has an invalid Type of ${type}.`), `${type} is unknown to it`)
  }
  const distribution = lintWithStockSpecification({ AWSTemplateFormatVersion: '2010-09-09', Resources: { MediaDistribution: plain(tpl.Resources.MediaDistribution) } })
  t.ok(distribution.crit.some((e) => /TrustedKeyGroups is not a valid property/.test(e.message)), 'nor a distribution property added since')
  t.equal(SPEC_VERSION, '117.0.0', 'hence the extension with the resource specification of these types')
  t.ok(SPEC_TYPES.includes('AWS::CloudFront::KeyGroup'))
})

t.test('each argument set: zero lint errors or warnings, and values CloudFront takes', async (t) => {
  for (const [name, options] of Object.entries(SETS)) {
    const tpl = cloudFrontTemplate(options)
    const r = lint(tpl)
    t.same(r.crit, [], `${name}: no error`)
    t.same(r.warn, [], `${name}: no warning`)
    t.equal(r.valid, true, name)
    t.same(valueProblems(tpl), [], `${name}: allowed values, names and references`)
  }
})

t.test('the linter and the value checks catch a broken template (negative twins)', async (t) => {
  const broken = (edit: (tpl: Obj) => void): Obj => {
    const tpl = structuredClone(cloudFrontTemplate(SETS['prefix, DNS, bucket region, two keys, two apps'] as SetupOptions)) as Obj
    edit(tpl)
    return tpl
  }
  const keyGroup = (tpl: Obj): Obj => tpl.Resources.MediaKeyGroup.Properties.KeyGroupConfig
  const behaviour = (tpl: Obj): Obj => tpl.Resources.MediaDistribution.Properties.DistributionConfig.DefaultCacheBehavior
  const cors = (tpl: Obj): Obj => tpl.Resources.MediaCorsPolicy.Properties.ResponseHeadersPolicyConfig.CorsConfig
  const cases: Array<[string, (tpl: Obj) => void, RegExp]> = [
    ['a missing required property', (tpl) => { delete keyGroup(tpl).Name }, /Required property Name missing for type AWS::CloudFront::KeyGroup\.KeyGroupConfig/],
    ['a required property missing deep down', (tpl) => { delete cors(tpl).OriginOverride }, /Required property OriginOverride missing/],
    ['a misspelt property', (tpl) => { behaviour(tpl).TrustedKeyGroup = behaviour(tpl).TrustedKeyGroups; delete behaviour(tpl).TrustedKeyGroups }, /TrustedKeyGroup is not a valid property/],
    ['a string for a Boolean', (tpl) => { cors(tpl).AccessControlAllowCredentials = 'yes' }, /Expecting a Boolean/],
    ['an attribute the type does not have', (tpl) => { keyGroup(tpl).Items[0]['Fn::GetAtt'][1] = 'KeyPairId' }, /KeyPairId/],
    ['a reference to no resource', (tpl) => { behaviour(tpl).CachePolicyId = { Ref: 'NoSuchPolicy' } }, /NoSuchPolicy/]
  ]
  for (const [name, edit, message] of cases) {
    const r = lint(broken(edit))
    t.equal(r.valid, false, `${name}: refused`)
    t.ok(r.crit.some((e) => message.test(e.message)), `${name}: ${r.crit.map((e) => e.message).join('; ')}`)
  }
  const values: Array<[string, (tpl: Obj) => void, RegExp]> = [
    ['a misspelt viewer protocol policy', (tpl) => { behaviour(tpl).ViewerProtocolPolicy = 'redirect-https' }, /ViewerProtocolPolicy: "redirect-https" is not one of/],
    ['a cookie behaviour CloudFront does not have', (tpl) => { tpl.Resources.MediaCachePolicy.Properties.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig.CookieBehavior = 'None' }, /CookieBehavior/],
    ['a method set CloudFront does not allow', (tpl) => { behaviour(tpl).AllowedMethods = ['GET'] }, /AllowedMethods/],
    ['a name with dots', (tpl) => { keyGroup(tpl).Name = 'media.example.com' }, /is not a name CloudFront takes/],
    // eslint-disable-next-line no-template-curly-in-string -- CloudFormation's Fn::Sub, not a template literal
    ['a Sub naming no resource', (tpl) => { tpl.Resources.MediaBucketPolicy.Properties.PolicyDocument.Statement[0].Condition.StringEquals['AWS:SourceArn']['Fn::Sub'] = 'arn:aws:cloudfront::${AWS::AccountId}:distribution/${Distribution}' }, /no resource Distribution/],
    ['TTLs out of order', (tpl) => { tpl.Resources.MediaCachePolicy.Properties.CachePolicyConfig.MinTTL = 90000 }, /MinTTL <= DefaultTTL/]
  ]
  for (const [name, edit, message] of values) {
    const problems = valueProblems(broken(edit))
    t.ok(problems.some((p) => message.test(p)), `${name}: ${problems.join('; ')}`)
  }
})

t.test('the media behaviour trusts the key group, which holds the given public keys', async (t) => {
  const tpl = cloudFrontTemplate(SETS['prefix, DNS, bucket region, two keys, two apps'] as SetupOptions)
  const keyIds = ofType(tpl, 'AWS::CloudFront::PublicKey')
  t.equal(keyIds.length, 2)
  const pems = keyIds.map((id) => props(tpl, id).PublicKeyConfig.EncodedKey as string)
  t.same(pems, [rsaKey.publicPem, ecKey.publicPem], 'each key as SPKI PEM, in the order given')
  t.same(ofType(tpl, 'AWS::CloudFront::KeyGroup'), ['MediaKeyGroup'])
  t.same(props(tpl, 'MediaKeyGroup').KeyGroupConfig.Items, keyIds.map((id) => ({ 'Fn::GetAtt': [id, 'Id'] })))
  const config = props(tpl, 'MediaDistribution').DistributionConfig
  const behaviours = [config.DefaultCacheBehavior, ...config.CacheBehaviors]
  t.equal(behaviours.length, 2)
  for (const b of behaviours) {
    t.same(b.TrustedKeyGroups, [{ 'Fn::GetAtt': ['MediaKeyGroup', 'Id'] }], 'every behaviour trusts the key group: no path is public by accident')
    t.equal(b.ViewerProtocolPolicy, 'redirect-to-https')
    t.same(b.CachePolicyId, { 'Fn::GetAtt': ['MediaCachePolicy', 'Id'] })
    t.same(b.ResponseHeadersPolicyId, { 'Fn::GetAtt': ['MediaCorsPolicy', 'Id'] })
    t.equal(b.TargetOriginId, config.Origins[0].Id)
    t.equal(b.ForwardedValues, undefined, 'no legacy cache settings beside the cache policy')
  }
  t.equal(config.CacheBehaviors[0].PathPattern, '/courses/*')
  t.same(tpl.Outputs.KeyPairIdEmpty, undefined)
  t.same(Object.keys(tpl.Outputs).filter((k) => k.startsWith('KeyPairId')).map((k) => tpl.Outputs[k]?.Value), keyIds.map((id) => ({ 'Fn::GetAtt': [id, 'Id'] })), 'one output per key: the keyPairId to sign with')

  const one = cloudFrontTemplate(BASE)
  t.equal(props(one, 'MediaDistribution').DistributionConfig.CacheBehaviors, undefined, 'without a prefix: the default behaviour is the media behaviour')
  t.same(props(one, 'MediaDistribution').DistributionConfig.DefaultCacheBehavior.TrustedKeyGroups, [{ 'Fn::GetAtt': ['MediaKeyGroup', 'Id'] }])
  t.same(one.Outputs.KeyPairId?.Value, { 'Fn::GetAtt': [publicKeyLogicalId(resolveSetup(BASE).publicKeys[0]?.fingerprint as string), 'Id'] })
})

t.test('a key keeps its logical ID when another is added (rotation without replacing it)', async (t) => {
  const before = ofType(cloudFrontTemplate(BASE), 'AWS::CloudFront::PublicKey')
  const during = ofType(cloudFrontTemplate({ ...BASE, publicKeys: [rsaKey2.publicPem, rsaKey.publicPem] }), 'AWS::CloudFront::PublicKey')
  t.equal(during.length, 2)
  t.ok(during.includes(before[0] as string), 'the old key is the same resource')
  const again = cloudFrontTemplate(BASE)
  t.same(again, cloudFrontTemplate(BASE), 'the same options give the same template')
})

t.test('the private key never reaches the template', async (t) => {
  const fromKeyObject = cloudFrontTemplate({ ...BASE, publicKeys: createPublicKey(rsaKey.privateKey) })
  const text = JSON.stringify(fromKeyObject)
  t.notOk(text.includes('PRIVATE'))
  t.ok(text.includes(JSON.stringify(rsaKey.publicPem).slice(1, -1)), 'the public half of a key object')
})

t.test('the alternate domain name with its certificate, SNI only', async (t) => {
  const config = props(cloudFrontTemplate({ ...BASE, domain: 'Media.Example.com' }), 'MediaDistribution').DistributionConfig
  t.same(config.Aliases, ['media.example.com'], 'lower-cased')
  t.same(config.ViewerCertificate, { AcmCertificateArn: CERT, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' })
  t.equal(config.ViewerCertificate.CloudFrontDefaultCertificate, undefined)
  t.equal(config.Enabled, true)
})

t.test('the cache policy leaves cookies, query strings and headers out of the key', async (t) => {
  const tpl = cloudFrontTemplate(BASE)
  t.same(ofType(tpl, 'AWS::CloudFront::CachePolicy'), ['MediaCachePolicy'])
  const key = props(tpl, 'MediaCachePolicy').CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin
  t.same(key.CookiesConfig, { CookieBehavior: 'none' }, 'no CloudFront-* cookie in the key: users share the cached files')
  t.same(key.QueryStringsConfig, { QueryStringBehavior: 'none' }, 'no signed URL parameter in the key')
  t.same(key.HeadersConfig, { HeaderBehavior: 'none' })
  t.equal(ofType(tpl, 'AWS::CloudFront::OriginRequestPolicy').length, 0, 'nothing more is forwarded to S3')
})

t.test('CORS with credentials for the exact app origins, never *', async (t) => {
  const tpl = cloudFrontTemplate({ ...BASE, app: ['https://APP.example.com:443/', 'https://admin.example.com:8443'] })
  const cors = props(tpl, 'MediaCorsPolicy').ResponseHeadersPolicyConfig.CorsConfig
  t.equal(cors.AccessControlAllowCredentials, true)
  t.same(cors.AccessControlAllowOrigins, { Items: ['https://app.example.com', 'https://admin.example.com:8443'] }, 'as browsers send Origin: lower case, default port dropped, no "/"')
  t.equal(cors.OriginOverride, true, 'over whatever S3 sends')
  t.same(cors.AccessControlAllowMethods, { Items: ['GET', 'HEAD'] })
})

t.test('origin access control, and a bucket policy that admits this distribution alone', async (t) => {
  for (const [prefix, resource] of [[undefined, 'arn:aws:s3:::my-media-bucket/*'], ['/courses/', 'arn:aws:s3:::my-media-bucket/courses/*']] as const) {
    const tpl = cloudFrontTemplate({ ...BASE, prefix })
    const origin = props(tpl, 'MediaDistribution').DistributionConfig.Origins[0]
    t.same(origin.OriginAccessControlId, { 'Fn::GetAtt': ['MediaOriginAccessControl', 'Id'] })
    t.same(origin.S3OriginConfig, { OriginAccessIdentity: '' }, 'no legacy origin access identity')
    // eslint-disable-next-line no-template-curly-in-string -- CloudFormation's Fn::Sub, not a template literal
    t.same(origin.DomainName, { 'Fn::Sub': 'my-media-bucket.s3.${AWS::Region}.amazonaws.com' }, 'the regional endpoint of the stack\'s region')
    t.match(props(tpl, 'MediaOriginAccessControl').OriginAccessControlConfig, { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' })
    const policy = props(tpl, 'MediaBucketPolicy')
    t.equal(policy.Bucket, 'my-media-bucket')
    t.equal(policy.PolicyDocument.Statement.length, 1)
    const statement = policy.PolicyDocument.Statement[0]
    t.same(statement.Principal, { Service: 'cloudfront.amazonaws.com' })
    t.equal(statement.Effect, 'Allow')
    t.equal(statement.Action, 's3:GetObject', 'read only, no listing')
    t.equal(statement.Resource, resource)
    const arn = statement.Condition.StringEquals['AWS:SourceArn']['Fn::Sub'] as string
    // eslint-disable-next-line no-template-curly-in-string -- CloudFormation's Fn::Sub, not a template literal
    t.equal(arn, 'arn:aws:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}', 'the condition names this distribution')
    t.equal(tpl.Resources.MediaDistribution?.Type, 'AWS::CloudFront::Distribution')
  }
  const regional = props(cloudFrontTemplate({ ...BASE, bucketRegion: 'ap-southeast-2' }), 'MediaDistribution').DistributionConfig.Origins[0]
  t.equal(regional.DomainName, 'my-media-bucket.s3.ap-southeast-2.amazonaws.com')
})

t.test('DNS alias records only with a hosted zone', async (t) => {
  t.same(ofType(cloudFrontTemplate(BASE), 'AWS::Route53::RecordSet'), [])
  const tpl = cloudFrontTemplate({ ...BASE, hostedZoneId: 'Z0123456789ABCDEFGHIJ' })
  const records = ofType(tpl, 'AWS::Route53::RecordSet').map((id) => props(tpl, id))
  t.same(records.map((r) => r.Type), ['A', 'AAAA'])
  for (const r of records) {
    t.equal(r.Name, 'media.example.com')
    t.equal(r.HostedZoneId, 'Z0123456789ABCDEFGHIJ')
    t.same(r.AliasTarget, { DNSName: { 'Fn::GetAtt': ['MediaDistribution', 'DomainName'] }, HostedZoneId: 'Z2FDTNDATAQYW2', EvaluateTargetHealth: false })
  }
  t.equal(props(tpl, 'MediaDistribution').DistributionConfig.IPV6Enabled, true, 'AAAA records point at a distribution that answers IPv6')
})

t.test('the cookie domain: the closest parent shared by the media host and every app', async (t) => {
  const cases: Array<[string, string | string[], string]> = [
    ['media.example.com', 'https://app.example.com', 'example.com'],
    ['media.example.com', 'https://example.com', 'example.com'],
    ['media.courses.example.com', 'https://app.courses.example.com', 'courses.example.com'],
    ['media.courses.example.com', ['https://app.courses.example.com', 'https://example.com'], 'example.com'],
    ['media.example.co.uk', 'https://www.example.co.uk', 'example.co.uk']
  ]
  for (const [domain, app, parent] of cases) {
    const tpl = cloudFrontTemplate({ ...BASE, domain, app })
    t.equal(tpl.Outputs.CookieDomain?.Value, parent, `${domain} and ${String(app)}`)
  }
  t.equal(cloudFrontTemplate({ ...BASE, prefix: '/courses/' }).Outputs.MediaUrl?.Value, 'https://media.example.com/courses/')
})

t.test('options that would deploy and then fail are refused, each with what to change', async (t) => {
  const refused: Array<[Obj, RegExp]> = [
    [{ domain: 'd111111abcdef8.cloudfront.net' }, /^Invalid option domain: cookies set by your app never reach d111111abcdef8\.cloudfront\.net: give an alternate domain name/],
    [{ domain: 'cloudfront.net' }, /never reach cloudfront\.net/],
    [{ domain: 'my-media-bucket.s3.eu-west-1.amazonaws.com' }, /is an AWS endpoint/],
    [{ domain: 'https://media.example.com/' }, /give the host name alone \("media\.example\.com"\)/],
    [{ domain: 'media.example.com.' }, /drop the final dot: "media\.example\.com"/],
    [{ domain: '*.example.com' }, /a wildcard cannot be the media host/],
    [{ domain: 'localhost' }, /is not a host name/],
    [{ domain: '203.0.113.7' }, /is an IP address/],
    [{ domain: 'media_x.example.com' }, /is not a host name/],
    [{ app: 'http://app.example.com' }, /^Invalid option app: "http:\/\/app\.example\.com" is not https: .* \(serve the app over https: https:\/\/app\.example\.com\)/],
    [{ app: '*' }, /refuse Access-Control-Allow-Origin: \* on a request with credentials/],
    [{ app: 'https://*.example.com' }, /exact origin/],
    [{ app: 'app.example.com' }, /not an origin: give it with its scheme, such as "https:\/\/app\.example\.com"/],
    [{ app: 'https://app.example.com/courses' }, /give the origin alone, as browsers send it in the Origin header: "https:\/\/app\.example\.com"/],
    [{ app: ['https://app.example.com', 'http://staging.example.com'] }, /^Invalid option app\[1\]: /],
    [{ app: 'https://app.other.com' }, /app\.other\.com and media\.example\.com share no parent domain, so cookies the app sets never reach media\.example\.com: .*"media\.other\.com"/],
    [{ app: 'https://media.example.com' }, /is on the media host itself: .*"cdn\.example\.com"/],
    [{ domain: 'media.example.co.uk', app: 'https://app.other.co.uk' }, /^Invalid option app: the only parent shared by media\.example\.co\.uk and app\.other\.co\.uk is co\.uk, a public suffix/],
    [{ app: ['https://app.example.com', 'https://app.other.com'] }, /^Invalid option app\[1\]: app\.other\.com and media\.example\.com share no parent/],
    [{ app: [] }, /give the app's origin/],
    [{ bucket: 's3://my-media-bucket' }, /give the bucket's name alone: "my-media-bucket"/],
    [{ bucket: 'arn:aws:s3:::my-media-bucket' }, /name alone: "my-media-bucket"/],
    [{ bucket: 'my-media-bucket.s3.eu-west-1.amazonaws.com' }, /name alone: "my-media-bucket"/],
    [{ bucket: 'My_Bucket' }, /is not an S3 bucket name/],
    [{ bucketRegion: 'Ireland' }, /is not an AWS region/],
    [{ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d' }, /^Invalid option certificateArn: the certificate is in eu-west-1, and CloudFront uses certificates from us-east-1 only: request \(or import\) a certificate for media\.example\.com in us-east-1/],
    [{ certificateArn: 'arn:aws:iam::123456789012:server-certificate/media' }, /is not an ACM certificate ARN/],
    [{ publicKeys: rsaKey.privatePem }, /^Invalid option publicKeys: this is a private key, which must never leave the app: give its public half, written by `openssl pkey -in private\.pem -pubout -out public\.pem`$/],
    [{ publicKeys: rsaKey.privateKey }, /this is a private key/],
    [{ publicKeys: Buffer.from(ecKey.privatePem) }, /this is a private key/],
    [{ publicKeys: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) }, /RSA keys of 2048 bits only; this key has 1024/],
    [{ publicKeys: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey }, /P-256/],
    [{ publicKeys: 'not a key' }, /must be PEM text/],
    [{ publicKeys: [rsaKey.publicPem, rsaKey.publicPem] }, /^Invalid option publicKeys\[1\]: this key is given twice/],
    [{ publicKeys: [rsaKey.publicPem, rsaKey.privatePem] }, /^Invalid option publicKeys\[1\]: this is a private key/],
    [{ publicKeys: Array.from({ length: 6 }, () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey) }, /at most 5 keys; 6 were given/],
    [{ publicKeys: [] }, /give the public key/],
    [{ hostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ' }, /give the ID alone: "Z0123456789ABCDEFGHIJ"/],
    [{ hostedZoneId: 'example.com' }, /is not a Route 53 hosted zone ID/],
    [{ prefix: '/courses' }, /end it with "\/": "\/courses\/" \(\/courses\* would also match/],
    [{ prefix: 'courses/' }, /start it with "\/": "\/courses\/"/],
    [{ prefix: '/courses/*' }, /without wildcards \("\/courses\/"\)/],
    [{ prefix: '/courses/../admin/' }, /not a plain path prefix/],
    [{ prefix: '/courses//42/' }, /not a plain path prefix/],
    [{ prefix: '/cours es/' }, /not a plain path prefix/],
    [{ prefix: `/${'a'.repeat(260)}/` }, /at most 255 characters/],
    [{ domain: '' }, /^Invalid option domain: expected a host name/],
    [{ domain: 42 }, /^Invalid option domain: expected a host name/],
    [{ domain: 'example.com', app: 'https://example.com' }, /is on the media host itself: .*"cdn\.example\.com"/],
    [{ app: 'https://other.com' }, /other\.com and media\.example\.com share no parent domain.*"media\.other\.com"/],
    [{ app: 42 }, /^Invalid option app: expected the app's origin/],
    [{ app: undefined }, /give the app's origin/],
    [{ bucket: '' }, /^Invalid option bucket: expected the S3 bucket's name/],
    [{ certificateArn: '' }, /^Invalid option certificateArn: expected an ACM certificate ARN/],
    [{ publicKeys: undefined }, /give the public key/],
    [{ hostedZoneId: 42 }, /"42" is not a Route 53 hosted zone ID/],
    [{ prefix: '' }, /^Invalid option prefix: expected a path prefix/],
    [{ prefixes: '/courses/' }, /^Invalid option prefixes: is not an option \(did you mean "prefix"\?\)/]
  ]
  for (const [change, message] of refused) {
    t.throws(() => cloudFrontTemplate({ ...BASE, ...change } as SetupOptions), { code: 'FST_ERR_CF_INVALID_OPTION', message }, JSON.stringify(change).slice(0, 90))
  }
  for (const err of refused.map(([change]) => { try { cloudFrontTemplate({ ...BASE, ...change } as SetupOptions) } catch (e) { return (e as Error).message } return '' })) {
    t.notOk(err.includes('PRIVATE KEY') || err.includes(rsaKey.privatePem.slice(40, 80)), 'no key material in a message')
  }
  // The valid twins of the refused values.
  const accepted: Array<Partial<SetupOptions>> = [
    { domain: 'media.example.com' },
    { app: 'https://app.example.com/' },
    { app: ['https://app.example.com', 'https://staging.example.com'] },
    { bucket: 'my.media-bucket' },
    { bucketRegion: 'us-gov-west-1' },
    { publicKeys: ecKey.publicPem },
    { publicKeys: rsaKey.publicKey },
    { publicKeys: rsaKey.publicKey.export({ type: 'pkcs1', format: 'pem' }) },
    { hostedZoneId: 'Z0123456789ABCDEFGHIJ' },
    { prefix: '/courses/' },
    { prefix: '/' },
    { prefix: '/a_b/c-d/e.f~g/' }
  ]
  for (const change of accepted) t.doesNotThrow(() => cloudFrontTemplate({ ...BASE, ...change }), JSON.stringify(change).slice(0, 90))
  t.equal(resolveSetup({ ...BASE, publicKeys: rsaKey.publicKey.export({ type: 'pkcs1', format: 'pem' }) }).publicKeys[0]?.pem, rsaKey.publicPem, 'PKCS#1 is re-encoded as SPKI')
  t.throws(() => cloudFrontTemplate(null as unknown as SetupOptions), { message: /expected an object/ })
})

t.test('the command for a public half never writes over its input', async (t) => {
  t.equal(publicHalfCommand(), 'openssl pkey -in private.pem -pubout -out public.pem')
  t.equal(publicHalfCommand('keys/cf.pem'), 'openssl pkey -in keys/cf.pem -pubout -out keys/public.pem')
  t.equal(publicHalfCommand('public.pem'), 'openssl pkey -in public.pem -pubout -out public-key.pem', 'a private key saved as public.pem')
  t.equal(publicHalfCommand('keys/public.pem'), 'openssl pkey -in keys/public.pem -pubout -out keys/public-key.pem')
  t.equal(publicHalfCommand("my keys/it's.pem"), "openssl pkey -in 'my keys/it'\\''s.pem' -pubout -out 'my keys/public.pem'", 'quoted for the shell')
})
