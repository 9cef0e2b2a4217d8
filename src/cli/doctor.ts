import { FST_ERR_CF_INVALID_OPTION } from '../core/errors.js'
import { diagnose, diagnoseHar, type DoctorReport, type Finding } from '../core/doctor/index.js'
import { clientIp as clientIpOf, keyMap, list, parse, parseNow, readFile, str, usage } from './args.js'
import type { Command } from './args.js'

const MARK: Record<Finding['severity'], string> = { error: 'ERROR', warning: 'WARN ', info: 'INFO ' }

function readHar (path: string): unknown {
  try {
    return JSON.parse(readFile('--har', path).toString('utf8'))
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_ERR_CF_CLI_USAGE') throw err
    return usage(`--har ${path} is not JSON (export the HAR from the browser's network panel)`)
  }
}

function print (result: DoctorReport, out: (line: string) => void): void {
  if (result.findings.length === 0) out('No problem found.')
  for (const f of result.findings) {
    out(`${MARK[f.severity]} ${f.code}: ${f.message}`)
    out(`      fix: ${f.fix}`)
  }
  const errors = result.findings.filter((f) => f.severity === 'error').length
  out(errors === 0
    ? 'OK: nothing here makes CloudFront refuse the request.'
    : `${errors} error${errors === 1
? ''
    : 's'}: CloudFront refuses this request.`)
}

export const doctor: Command = {
  summary: 'explain why CloudFront refuses a request (a 403), and what to change',
  help: `Usage: cloudfront-cookies doctor <url> (--cookie <header> | --set-cookie <line>... --from <url>) [options]
       cloudfront-cookies doctor --har <file> [options]

Checks what the browser sends to <url> (the media URL, as requested) the way CloudFront judges it,
and prints each problem found with what to change. Never prints cookie values or signatures.
Exit status: 0 no error found, 1 errors found, 2 bad arguments.

Options:
  --cookie <header>      the Cookie header sent to the CDN (repeatable; joined with "; ")
  --set-cookie <line>    a Set-Cookie line as the app sent it (repeatable): the doctor decides, as a
                         browser, whether it is stored and sent to <url> (Domain, Path, Secure, SameSite)
  --from <url>           the URL of the response that carried the --set-cookie lines
  --har <file>           a HAR exported from the browser's devtools (with sensitive data): every
                         request CloudFront refused in it is diagnosed
  --key <id=file>        a trusted public key and its ID (repeatable; without one, every check but
                         the signature runs)
  --now <time>           judge at this time: epoch seconds or an ISO date (default: now; for a HAR,
                         the time of each request)
  --ip <address>         the viewer's IP address (for grants bound to one)
  --json                 print { ok, findings: [{ code, severity, message, fix }] }
  -h, --help             show this help`,
  async run (args, io) {
    const p = parse(args, {
      cookie: { type: 'string', multiple: true },
      'set-cookie': { type: 'string', multiple: true },
      from: { type: 'string' },
      har: { type: 'string' },
      key: { type: 'string', multiple: true },
      now: { type: 'string' },
      ip: { type: 'string' },
      json: { type: 'boolean' }
    }, 1)
    const url = p.positionals[0]
    const har = str(p, 'har')
    const cookies = list(p, 'cookie')
    const setCookies = list(p, 'set-cookie')
    const from = str(p, 'from')
    if (har !== undefined && (url !== undefined || cookies.length > 0 ||
      setCookies.length > 0)) {
      usage('--har reads the URLs and cookies from the file: give no <url>, --cookie or ' +
        '--set-cookie with it')
    }
    if (har === undefined && url === undefined) usage('give the refused media <url> (or --har <file>)')
    if (setCookies.length > 0 &&
      from === undefined) usage('--set-cookie needs --from <URL of the response that set them>')
    if (from !== undefined && setCookies.length === 0) usage('--from goes with --set-cookie')
    const at = parseNow(str(p, 'now'))
    const now = at === undefined ? undefined : typeof at === 'number' ? at * 1000 : at.getTime()
    // Optional here: without keys, doctor checks everything but the signature.
    const keySpecs = list(p, 'key')
    const keys = keySpecs.length === 0 ? undefined : keyMap(keySpecs)
    const clientIp = clientIpOf(p)
    let result: DoctorReport
    try {
      result = har !== undefined
        ? diagnoseHar(readHar(har), { keys, now, clientIp })
        : diagnose({
          url: url as string,
          cookieHeader: cookies.length > 0 ? cookies.join('; ') : undefined,
          setCookies,
          from,
          keys,
          now,
          clientIp
        })
    } catch (err) {
      // A URL or a HAR that cannot be read is a bad argument; a bad key keeps its own code.
      if (err instanceof FST_ERR_CF_INVALID_OPTION) {
        const what = err.option === 'url'
          ? '<url>'
          : err.option === 'har'
            ? `--har ${har as string}`
            : `--${err.option}`
        usage(`${what}: ${err.reason}`)
      }
      throw err
    }
    if (p.values.json === true) io.out(JSON.stringify(result, null, 2))
    else print(result, io.out)
    return result.ok ? 0 : 1
  }
}
