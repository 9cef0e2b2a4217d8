import { createVerifier } from '../core/verifier.js'
import {
  absoluteUrl, clientIp, cookieHeader, isoDate, keyMap, list, parse, parseNow, withIsoDates, str,
  type Command
} from './args.js'

export const verify: Command = {
  summary: 'judge a URL (and cookies) as CloudFront would',
  help: `Usage: cloudfront-cookies verify <url> --key <id=public.pem> [--key ...] [--cookie <header>] [options]

Prints whether CloudFront would serve <url> (the full URL, as the browser sends it) and why.
Exit status: 0 allowed, 1 refused, 2 bad arguments.

Options:
  --key <id=file>      a trusted public key and its ID (repeatable, at least one)
  --cookie <header>    the request's Cookie header, with or without "Cookie: " in front
                       (repeatable; joined with "; ")
  --ip <address>       the viewer's IP address (for policies with an IP condition)
  --now <time>         judge at this time: epoch seconds or an ISO date (default: now)
  --json               print the verdict as JSON (times also as ISO dates: expiresIso, notBeforeIso)
  -h, --help           show this help`,
  flags: { keys: '--key', now: '--now' },
  async run (args, io) {
    const p = parse(args, {
      key: { type: 'string', multiple: true },
      cookie: { type: 'string', multiple: true },
      ip: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean' }
    }, 1)
    const url = absoluteUrl(p, 'URL to verify')
    const at = parseNow(str(p, 'now'))
    const nowMs = at === undefined ? undefined : typeof at === 'number' ? at * 1000 : at.getTime()
    const verifier = createVerifier({
      keys: keyMap(list(p, 'key')),
      ...(nowMs !== undefined
        ? { now: () => nowMs }
        : {})
    })
    const result = verifier.verify({ url, cookieHeader: cookieHeader(list(p, 'cookie')), clientIp: clientIp(p) })
    if (p.values.json === true) {
      const shown = result.ok
        ? {
            ...result,
            policy: {
              ...result.policy,
              expiresIso: isoDate(result.policy.expires),
              ...(result.policy.notBefore !== undefined ? { notBeforeIso: isoDate(result.policy.notBefore) } : {})
            }
          }
        : { ...result, reason: withIsoDates(result.reason) }
      io.out(JSON.stringify(shown, null, 2))
    } else if (result.ok) {
      const pol = result.policy
      io.out(`ALLOWED by a signed ${result.mode === 'url' ? 'URL' : 'cookie set'}`)
      io.out(`key:        ${result.keyPairId}`)
      io.out(`resource:   ${pol.resource ?? '(none: every file the key can reach)'}`)
      io.out(`expires:    ${isoDate(pol.expires)} (${pol.expires})`)
      if (pol.notBefore !== undefined) io.out(`not before: ${isoDate(pol.notBefore)} (${pol.notBefore})`)
      if (pol.ipAddress !== undefined) io.out(`ip:         ${pol.ipAddress}`)
    } else {
      io.out(`REFUSED ${result.status} ${result.code}: ${result.message}`)
      io.out(`reason:     ${withIsoDates(result.reason)}`)
    }
    return result.ok ? 0 : 1
  }
}
