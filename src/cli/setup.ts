import { publicHalfCommand, resolveSetup, templateFor, type ResolvedSetup } from '../core/setup/index.js'
import { list, parse, readFile, required, str, usage, type Command } from './args.js'

const FLAGS: Record<string, string> = {
  domain: '--domain',
  app: '--app',
  bucket: '--bucket',
  bucketRegion: '--bucket-region',
  certificateArn: '--certificate-arn',
  publicKeys: '--public-key',
  hostedZoneId: '--hosted-zone-id',
  prefix: '--prefix'
}

/** A library error (`Invalid option publicKeys[1]: ...`) as the flag and the value the user typed. */
function asUsage (err: unknown, given: Record<string, Array<string | undefined>>): never {
  const e = err as { code?: string, message?: string }
  const m = /^Invalid option (\w+)(?:\[(\d+)\])?: ([\s\S]*)$/.exec(String(e.message))
  if (e.code !== 'FST_ERR_CF_INVALID_OPTION' || m === null || !Object.hasOwn(FLAGS, m[1] as string)) throw err
  const option = m[1] as string
  // Each option named in a message was given: its value is the one typed (for lists, the one at the index).
  const typed = (given[option] as string[])[Number(m[2] ?? 0)] as string
  let reason = m[3] as string
  // The command names the file the user gave, and a new file beside it, never the input itself.
  if (option === 'publicKeys') reason = reason.replace(publicHalfCommand(), publicHalfCommand(typed))
  return usage(`${FLAGS[option] as string} ${typed}: ${reason}`)
}

function nextSteps (s: ResolvedSetup): string {
  const region = s.bucketRegion ?? "<the bucket's region>"
  return [
    `Deploy: aws cloudformation deploy --template-file <this file> --stack-name <name> --region ${region}`,
    `  (the bucket policy it writes replaces any policy s3://${s.bucket} has: merge it first if the bucket has one)`,
    'Then give the app the stack\'s outputs: KeyPairId as keyPairId, CookieDomain as cookie: { domain: \'' +
      s.cookieDomain + '\' },',
    `and sign for https://${s.domain}${s.prefix}... (see docs/cloudfront-setup.md for the checks with curl and the ` +
      'doctor).'
  ].join('\n')
}

export const setup: Command = {
  summary: 'print a CloudFormation template for the CloudFront side (keys, CORS, cache, S3 access)',
  help: 'Usage: cloudfront-cookies setup --domain <host> --app <origin> --bucket <name> --certificate-arn <arn> ' +
    `--public-key <file> [options]

Prints (on stdout) a CloudFormation template in JSON for the CloudFront side of signed cookies:
the public key(s) and a key group, a distribution on the alternate domain name with its certificate,
whose media behaviour trusts the key group and redirects http to https, a response headers policy
for CORS with credentials for the app's exact origin, a cache policy that leaves cookies and query
strings out of the cache key, origin access control to the private bucket and the bucket policy that
admits this distribution alone; with --hosted-zone-id, the DNS alias records.
Step by step, with the reasons and the checks: docs/cloudfront-setup.md.

Options:
  --domain <host>           the media host viewers request, under the app's domain (media.example.com)
  --app <origin>            the app's origin, https (https://app.example.com; repeatable)
  --bucket <name>           the private S3 bucket that holds the media
  --bucket-region <region>  the bucket's region (default: the region the stack is deployed in)
  --certificate-arn <arn>   an ACM certificate for the domain, in us-east-1
  --public-key <file>       the public key (PEM) the app's private key pairs with (repeatable, up to 5,
                            for rotation; never the private key)
  --hosted-zone-id <id>     add A and AAAA alias records in this Route 53 hosted zone
  --prefix <path>           serve the media under this prefix only (/courses/); the bucket policy
                            admits that prefix alone (default: the whole bucket)
  -h, --help                show this help

Example:
  cloudfront-cookies setup --domain media.example.com --app https://app.example.com \\
    --bucket my-media-bucket --certificate-arn arn:aws:acm:us-east-1:123456789012:certificate/… \\
    --public-key public.pem --prefix /courses/ > cloudfront.json`,
  async run (args, io) {
    const p = parse(args, {
      domain: { type: 'string' },
      app: { type: 'string', multiple: true },
      bucket: { type: 'string' },
      'bucket-region': { type: 'string' },
      'certificate-arn': { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'hosted-zone-id': { type: 'string' },
      prefix: { type: 'string' }
    }, 0)
    const domain = required(p, 'domain')
    const app = list(p, 'app')
    if (app.length === 0) usage('--app is required (the app\'s origin, such as https://app.example.com)')
    const bucket = required(p, 'bucket')
    const certificateArn = required(p, 'certificate-arn')
    const keyFiles = list(p, 'public-key')
    if (keyFiles.length === 0) usage('--public-key is required (the public key in PEM, such as public.pem)')
    const options = {
      domain,
      app,
      bucket,
      bucketRegion: str(p, 'bucket-region'),
      certificateArn,
      publicKeys: keyFiles,
      hostedZoneId: str(p, 'hosted-zone-id'),
      prefix: str(p, 'prefix')
    }
    let resolved: ResolvedSetup
    try {
      resolved = resolveSetup({ ...options, publicKeys: keyFiles.map((file) => readFile('--public-key', file)) })
    } catch (err) {
      const given = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))
      asUsage(err, given)
    }
    io.out(JSON.stringify(templateFor(resolved), null, 2))
    io.err(nextSteps(resolved))
    return 0
  }
}
