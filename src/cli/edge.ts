import { resolve } from 'node:path'
import type { EdgeBehavior } from '../edge/options.js'
import { keyMap, list, parse, str, usage, type Command } from './args.js'

export const edge: Command = {
  summary: 'run the local CloudFront edge in front of a directory or an upstream server',
  help: `Usage: cloudfront-cookies edge (--root <dir> | --upstream <url>) --key <id=public.pem> [--key ...] [options]

Serves <dir> (or forwards to <url>) and refuses, like CloudFront, every request without a valid
signed URL or signed cookies from a trusted key. Stops on Ctrl-C.

Options:
  --root <dir>            serve files from this directory (Range supported)
  --upstream <url>        forward to this server instead: http://127.0.0.1:3000
  --key <id=file>         a trusted public key and its ID (repeatable, at least one)
  --public <pattern>      serve paths matching this pattern without a signature (repeatable),
                          e.g. --public '/index.html' --public '/assets/*'
  --port <n>              port to listen on (default 8080; 0 picks a free one)
  --host <address>        address to listen on (default 127.0.0.1)
  --cors-origin <origin>  let this origin read responses with credentials (repeatable)
  --scheme http|https     the scheme viewers use (default: the request's)
  --viewer-host <host>    the host viewers use, e.g. media.example.com (default: the Host header)
  --debug                 add the refusal reason in an x-cloudfront-edge-reason header and log it
  -h, --help              show this help`,
  flags: {
    keys: '--key',
    'origin.root': '--root',
    'origin.upstream': '--upstream',
    'behaviors[].pathPattern': '--public',
    'cors.origins': '--cors-origin',
    scheme: '--scheme',
    host: '--viewer-host'
  },
  async run (args, io) {
    const p = parse(args, {
      root: { type: 'string' },
      upstream: { type: 'string' },
      key: { type: 'string', multiple: true },
      public: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      scheme: { type: 'string' },
      'viewer-host': { type: 'string' },
      debug: { type: 'boolean' }
    }, 0)
    const root = str(p, 'root')
    const upstream = str(p, 'upstream')
    if ((root === undefined) === (upstream === undefined)) usage('give --root <dir> or --upstream <url>')
    const portText = str(p, 'port') ?? '8080'
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) usage(`--port ${portText}: expected 0 to 65535`)
    const scheme = str(p, 'scheme')
    if (scheme !== undefined && scheme !== 'http' &&
      scheme !== 'https') usage(`--scheme ${scheme}: expected http or https`)
    const behaviors: EdgeBehavior[] = list(p, 'public').map((pathPattern) => ({ pathPattern, public: true }))
    const corsOrigins = list(p, 'cors-origin')
    const debug = p.values.debug === true
    const viewerHost = str(p, 'viewer-host')
    const host = str(p, 'host') ?? '127.0.0.1'
    // Loaded here only: the signing commands should not pay for loading Fastify.
    const { createEdgeServer } = await import('../edge/server.js')
    const app = await createEdgeServer({
      keys: keyMap(list(p, 'key')),
      origin: root !== undefined ? { root } : { upstream: upstream as string },
      behaviors,
      ...(corsOrigins.length > 0 ? { cors: { origins: corsOrigins } } : {}),
      ...(scheme !== undefined ? { scheme } : {}),
      ...(viewerHost !== undefined ? { host: viewerHost } : {}),
      debug,
      ...(debug
        ? { onDeny: (request, d) => io.err(`403 ${d.code} ${request.method} ${request.url}: ${d.reason}`) }
        : {})
    })
    try {
      const address = await app.listen({ port: Number(portText), host })
      io.out(`Edge listening on ${address}`)
      io.out(`origin:  ${root !== undefined ? `directory ${resolve(root)}` : `upstream ${upstream as string}`}`)
      io.out(`keys:    ${list(p, 'key').map((k) => k.slice(0, k.indexOf('='))).join(', ')}`)
      io.out(`public:  ${behaviors.length > 0
? behaviors.map((b) => b.pathPattern).join(', ')
        : '(none: every path needs a signature)'}`)
    } catch (err) {
      await app.close()
      const code = (err as { code?: string }).code
      if (code === 'EADDRINUSE') {
        return usage(`port ${portText} on ${host} is already in use: pick another with --port <n> (--port 0 picks a ` +
          'free one), or stop what is listening there')
      }
      if (code === 'EADDRNOTAVAIL' ||
        code === 'ENOTFOUND') usage(`--host ${host}: this machine has no such address (${code})`)
      if (code === 'EACCES') {
        usage(`port ${portText} needs privileges to listen on: pick one above 1023 with --port ` +
        '<n>')
      }
      throw err
    }
    await io.stopped()
    await app.close()
    return 0
  }
}
