// `npm run example`: starts the app and the local edge on localhost, then says what to try.
// PORT, EDGE_PORT and TTL (seconds) change the defaults: 3000, 3001 and 6 (0 picks a free port);
// KEYS_DIR, where the development key pair is kept (default example/.keys).
import { relative } from 'node:path'
import { startExample } from './server.js'

function setting (name: string, fallback: number): number {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  if (!/^\d+$/.test(value)) throw new Error(`${name}=${value}: expected a whole number`)
  return Number(value)
}

async function main (): Promise<void> {
  const ttl = setting('TTL', 6)
  const example = await startExample({
    appPort: setting('PORT', 3000),
    edgePort: setting('EDGE_PORT', 3001),
    ttl,
    ...(process.env.KEYS_DIR ? { keysDir: process.env.KEYS_DIR } : {}),
    log: (line) => console.log(`  ${line}`)
  })
  const { appUrl, edgeUrl } = example
  const keys = relative(process.cwd(), example.keysDir) || '.'

  console.log(`Open ${appUrl}

  app   ${appUrl}  Fastify with fastify-cloudfront-cookies (grants last ${ttl} s)
  edge  ${edgeUrl}  the local CloudFront edge, in front of example/media/ (and its static
        manifests' copy under /static/, templated for the key below at this start)
  key   ${example.keyPairId} in ${keys}/${example.keysCreated ? ' (just created)' : ''}

What to try:
  1. Sign in as Alice and open "HLS Basics": the course page sets CloudFront cookies for
     /courses/hls-basics/ and the player streams from the edge with them.
  2. Keep the page open: the player reports its progress and the app renews the cookies
     before they expire (see "Renewals" on the page, and the lines below).
  3. Open "Caching at the Edge", Bob's course: the page opens, the edge answers 403.
  4. Ask the edge without cookies: curl -i ${edgeUrl}/courses/hls-basics/index.m3u8
  5. Sign out, here or in another tab: the cookies are cleared, the edge refuses every
     further segment, and a page still playing the course stops and says so.
  6. Without cookies: ${appUrl}/courses/hls-basics/cookieless plays the course through the
     app's playlist mirror (/hls/...), every segment a signed URL.
     In MPEG-DASH: ${appUrl}/courses/hls-basics/dash plays it with the same cookies.
     From static manifests: ${appUrl}/courses/hls-basics/static plays the edge's templated
     playlists from one signed URL, with no cookie and nothing of the app's in the media path.
  7. Open ${appUrl.replace('localhost', '127.0.0.1')} instead: cookies are kept per host name, so those
     set there never reach the edge on localhost, and the course page says so. When a player fails,
     the page says why; for a HAR of it: npx cloudfront-cookies doctor --har <file>

Press Ctrl+C to stop.
`)

  const stop = (): void => {
    example.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'EADDRINUSE') {
    console.error(`A port is in use (${e.message}). Stop what uses it, or pick others: PORT=4000 EDGE_PORT=4001 npm run example`)
  } else {
    console.error(err)
  }
  process.exitCode = 1
})
