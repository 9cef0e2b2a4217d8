import { createHash } from 'node:crypto'
import { resolveSetup, type ResolvedSetup, type SetupOptions } from './options.js'

// The CloudFront side of signed cookies as one CloudFormation template (JSON, no dependency): what
// decides whether the cookies the app sets ever reach CloudFront, and whether CloudFront accepts them.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export interface TemplateResource {
  Type: string
  Properties: Record<string, Json>
}

export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09'
  Description: string
  Resources: Record<string, TemplateResource>
  Outputs: Record<string, { Description: string, Value: Json }>
}

/** Route 53's hosted zone for every CloudFront distribution, the target zone of an alias record. */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2'

/**
 * The logical IDs of the template's fixed resources (public keys are `PublicKey` + 8 hex digits of their fingerprint).
 */
export const LOGICAL_IDS = {
  keyGroup: 'MediaKeyGroup',
  originAccessControl: 'MediaOriginAccessControl',
  cachePolicy: 'MediaCachePolicy',
  responseHeadersPolicy: 'MediaCorsPolicy',
  distribution: 'MediaDistribution',
  bucketPolicy: 'MediaBucketPolicy',
  dnsIpv4: 'MediaDnsIpv4',
  dnsIpv6: 'MediaDnsIpv6'
} as const

const ORIGIN_ID = 'media-bucket'

const getAtt = (resource: string, attribute: string): Json => ({ 'Fn::GetAtt': [resource, attribute] })

/**
 * Names are unique per account: derived from the domain (itself unique to one distribution), at most 64 characters with
 * a suffix.
 */
function baseName (domain: string): string {
  const name = domain.replace(/\./g, '-')
  return name.length <= 48
    ? name
    : `${name.slice(0, 39)}-${createHash('sha256').update(domain).digest('hex').slice(0,
    8)}`
}

function cut (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

export function publicKeyLogicalId (fingerprint: string): string {
  return `PublicKey${fingerprint.slice(0, 8).toUpperCase()}`
}

function cacheBehavior (): Record<string, Json> {
  return {
    TargetOriginId: ORIGIN_ID,
    // Secure cookies are never sent over http: a viewer that starts there is sent to https first.
    ViewerProtocolPolicy: 'redirect-to-https',
    AllowedMethods: ['GET', 'HEAD'],
    CachedMethods: ['GET', 'HEAD'],
    Compress: true,
    CachePolicyId: getAtt(LOGICAL_IDS.cachePolicy, 'Id'),
    ResponseHeadersPolicyId: getAtt(LOGICAL_IDS.responseHeadersPolicy, 'Id'),
    // Without it CloudFront ignores the cookies and serves every file to anyone.
    TrustedKeyGroups: [getAtt(LOGICAL_IDS.keyGroup, 'Id')]
  }
}

/** The template built from options already checked by `resolveSetup()`. */
export function templateFor (s: ResolvedSetup): CloudFormationTemplate {
  const base = baseName(s.domain)
  const resources: Record<string, TemplateResource> = {}
  const outputs: CloudFormationTemplate['Outputs'] = {}

  for (const key of s.publicKeys) {
    const id = publicKeyLogicalId(key.fingerprint)
    resources[id] = {
      Type: 'AWS::CloudFront::PublicKey',
      Properties: {
        PublicKeyConfig: {
          // Derived from the key: the same key keeps its resource when the template is made again.
          CallerReference: `${base}-${key.fingerprint}`,
          EncodedKey: key.pem,
          Name: `${base}-${key.fingerprint.slice(0, 8)}`,
          Comment: cut(`${key.type} key for signed cookies on ${s.domain}`, 128)
        }
      }
    }
    outputs[s.publicKeys.length === 1 ? 'KeyPairId' : `KeyPairId${key.fingerprint.slice(0, 8).toUpperCase()}`] = {
      Description: 'The app\'s keyPairId (the CloudFront-Key-Pair-Id cookie) ' +
        `for the ${key.type} key ${key.fingerprint.slice(0, 8)}`,
      Value: getAtt(id, 'Id')
    }
  }

  resources[LOGICAL_IDS.keyGroup] = {
    Type: 'AWS::CloudFront::KeyGroup',
    Properties: {
      KeyGroupConfig: {
        Name: `${base}-signers`,
        Items: s.publicKeys.map((k) => getAtt(publicKeyLogicalId(k.fingerprint), 'Id')),
        Comment: cut(`Keys whose signed cookies and URLs ${s.domain} accepts`, 128)
      }
    }
  }

  resources[LOGICAL_IDS.originAccessControl] = {
    Type: 'AWS::CloudFront::OriginAccessControl',
    Properties: {
      OriginAccessControlConfig: {
        Name: `${base}-s3`,
        Description: cut(`CloudFront signs its requests to s3://${s.bucket}`, 256),
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4'
      }
    }
  }

  resources[LOGICAL_IDS.cachePolicy] = {
    Type: 'AWS::CloudFront::CachePolicy',
    Properties: {
      CachePolicyConfig: {
        Name: `${base}-media`,
        Comment: 'One cached copy per file for every user: no cookie, query string or header in the cache key',
        MinTTL: 0,
        DefaultTTL: 86400,
        MaxTTL: 31536000,
        ParametersInCacheKeyAndForwardedToOrigin: {
          // CloudFront checks the CloudFront-* cookies and the signed URL parameters at the edge on
          // every request, cached or not; in the key they would give each user a copy of their own.
          CookiesConfig: { CookieBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          EnableAcceptEncodingGzip: true,
          EnableAcceptEncodingBrotli: true
        }
      }
    }
  }

  resources[LOGICAL_IDS.responseHeadersPolicy] = {
    Type: 'AWS::CloudFront::ResponseHeadersPolicy',
    Properties: {
      ResponseHeadersPolicyConfig: {
        Name: `${base}-cors`,
        Comment: cut(`CORS with credentials for ${s.appOrigins.join(' ')}`, 128),
        CorsConfig: {
          // A player that sends cookies (withCredentials) reads the answer only with both of these:
          // the exact origin (never *) and Allow-Credentials: true.
          AccessControlAllowCredentials: true,
          AccessControlAllowOrigins: { Items: s.appOrigins },
          AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
          AccessControlAllowHeaders: { Items: ['Range'] },
          AccessControlExposeHeaders: { Items: ['Content-Length', 'Content-Range', 'Accept-Ranges'] },
          AccessControlMaxAgeSec: 600,
          OriginOverride: true
        }
      }
    }
  }

  const distributionConfig: Record<string, Json> = {
    Enabled: true,
    Comment: cut(`Signed-cookie media for ${s.appOrigins.join(' ')}`, 128),
    Aliases: [s.domain],
    ViewerCertificate: {
      AcmCertificateArn: s.certificateArn,
      SslSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021'
    },
    HttpVersion: 'http2and3',
    IPV6Enabled: true,
    Origins: [{
      Id: ORIGIN_ID,
      DomainName: s.bucketRegion === undefined
        ? { 'Fn::Sub': `${s.bucket}.s3.\${AWS::Region}.amazonaws.com` }
        : `${s.bucket}.s3.${s.bucketRegion}.amazonaws.com`,
      OriginAccessControlId: getAtt(LOGICAL_IDS.originAccessControl, 'Id'),
      // Empty: the origin access control signs the requests, not a legacy origin access identity.
      S3OriginConfig: { OriginAccessIdentity: '' }
    }],
    // The default behaviour trusts the key group too: a path outside the prefix is never public by accident.
    DefaultCacheBehavior: cacheBehavior()
  }
  if (s.prefix !== '/') distributionConfig.CacheBehaviors = [{ PathPattern: `${s.prefix}*`, ...cacheBehavior() }]
  resources[LOGICAL_IDS.distribution] = {
    Type: 'AWS::CloudFront::Distribution',
    Properties: { DistributionConfig: distributionConfig }
  }

  resources[LOGICAL_IDS.bucketPolicy] = {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: s.bucket,
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'CloudFrontReadsMedia',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${s.bucket}${s.prefix}*`,
          // Only this distribution: any other one, in any account, is refused.
          Condition: {
            StringEquals: {
              'AWS:SourceArn': {
                'Fn::Sub': `arn:aws:cloudfront::\${AWS::AccountId}:distribution/\${${LOGICAL_IDS.distribution}}`
              }
            }
          }
        }]
      }
    }
  }

  if (s.hostedZoneId !== undefined) {
    for (const [id, type] of [[LOGICAL_IDS.dnsIpv4, 'A'], [LOGICAL_IDS.dnsIpv6, 'AAAA']] as const) {
      resources[id] = {
        Type: 'AWS::Route53::RecordSet',
        Properties: {
          HostedZoneId: s.hostedZoneId,
          Name: s.domain,
          Type: type,
          AliasTarget: {
            DNSName: getAtt(LOGICAL_IDS.distribution, 'DomainName'),
            HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID,
            EvaluateTargetHealth: false
          }
        }
      }
    }
  }

  outputs.KeyGroupId = {
    Description: 'The key group the media behaviour trusts',
    Value: getAtt(LOGICAL_IDS.keyGroup, 'Id')
  }
  outputs.DistributionId = {
    Description: 'The distribution (for invalidations and get-distribution-config)',
    Value: { Ref: LOGICAL_IDS.distribution }
  }
  outputs.DistributionDomainName = {
    Description: s.hostedZoneId === undefined
      ? `Point ${s.domain} at this name (a CNAME, or an alias record in Route 53); never give it to viewers, the ` +
        'app\'s cookies do not reach it'
      : `The target of the alias records for ${s.domain}; never give it to viewers, the app's cookies do not reach it`,
    Value: getAtt(LOGICAL_IDS.distribution, 'DomainName')
  }
  outputs.MediaUrl = { Description: 'Where the player requests the media', Value: `https://${s.domain}${s.prefix}` }
  outputs.CookieDomain = {
    Description: 'The app\'s cookie Domain (cookie: { domain }), shared by the app and the ' +
    'media host',
    Value: s.cookieDomain
  }

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: cut(`CloudFront signed cookies: https://${s.domain}${s.prefix} from s3://${s.bucket}, for ${s.appOrigins.join(', ')}`, 1024),
    Resources: resources,
    Outputs: outputs
  }
}

/**
 * A CloudFormation template for the CloudFront side of signed cookies: the public keys and their
 * key group, a distribution on an alternate domain name whose media behaviour trusts the key group,
 * CORS with credentials for the app, a cache policy that shares cached media between users, origin
 * access control to the private bucket with the bucket policy that admits this distribution alone,
 * and optionally the DNS alias records. Throws `FST_ERR_CF_INVALID_OPTION` naming what to change.
 */
export function cloudFrontTemplate (options: SetupOptions): CloudFormationTemplate {
  return templateFor(resolveSetup(options))
}
