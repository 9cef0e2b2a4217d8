// Requests per second of a bare Express 5 route against the same route behind
// expressCloudfrontCookies serving one user's grant from its cache (same user, same prefix: one
// signature, then every response carries the prepared Set-Cookie strings), in one run.
// Also the middleware on a path no rule matches (its pass-through cost).
// Run with `npm run bench:express` (builds first). BENCH_DURATION=seconds per measurement (default 3).
//
// The servers run in a child process so the load generator does not share their event loop.
import { fork } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const USER = { 'x-user': 'alice' }

if (process.argv[2] === 'serve') {
  await serve()
} else {
  await measure()
}

async function serve () {
  const { default: express } = await import('express')
  const { expressCloudfrontCookies } = await import('../dist/esm/express/index.js')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })

  const ok = (req, res) => { res.send('ok') }
  const bare = express()
  bare.get('/courses/:courseId/player', ok)
  bare.get('/public', ok)

  const cloudfront = expressCloudfrontCookies({
    keyPairId: 'KBENCH',
    privateKey,
    distribution: 'https://media.example.com',
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: (req) => req.headers['x-user']
  })
  const granted = express()
  granted.use(cloudfront)
  granted.get('/courses/:courseId/player', ok)
  granted.get('/public', ok)

  const listen = (app) => new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(server)))
  })
  const servers = [await listen(bare), await listen(granted)]

  const stop = () => {
    for (const s of servers) {
      s.closeAllConnections()
      s.close()
    }
  }
  process.on('disconnect', stop)
  process.on('message', (msg) => {
    if (msg === 'stats') process.send({ stats: cloudfront.stats() })
    else if (msg === 'stop') process.disconnect()
  })
  process.send({ bare: servers[0].address().port, granted: servers[1].address().port })
}

async function measure () {
  const { default: autocannon } = await import('autocannon')
  const duration = Number(process.env.BENCH_DURATION ?? 3)
  const rounds = 3
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = () => new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`the bench servers exited early (code ${code})`)))
  })
  const ports = await next()

  async function run (port, path, seconds) {
    const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 10, duration: seconds, headers: USER })
    if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
      throw new Error(`${path} on port ${port}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`)
    }
    return result.requests.average
  }

  const cases = [
    { label: 'matching route (grant from the cache)', path: '/courses/42/player' },
    { label: 'route no rule matches', path: '/public' }
  ]
  const rows = []
  try {
    // What is measured must be what is claimed: the matching route carries a grant, the others none.
    const sample = await fetch(`http://127.0.0.1:${ports.granted}${cases[0].path}`, { headers: USER })
    const set = sample.headers.getSetCookie().filter((c) => c.startsWith('CloudFront-'))
    if (set.length !== 3) throw new Error(`expected a CloudFront cookie set on ${cases[0].path}, got ${set.length} cookies`)
    for (const c of cases) {
      // Warm-up: JIT, and the one signature for this user and prefix.
      await run(ports.bare, c.path, 1)
      await run(ports.granted, c.path, 1)
      // Alternating rounds, so drift on a shared machine hits both sides alike.
      const bare = []
      const granted = []
      for (let i = 0; i < rounds; i++) {
        bare.push(await run(ports.bare, c.path, duration))
        granted.push(await run(ports.granted, c.path, duration))
      }
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
      rows.push({ label: c.label, bare: mean(bare), granted: mean(granted) })
    }
    child.send('stats')
    const { stats } = await next()

    console.log(`\nExpress 5: bare route vs expressCloudfrontCookies, loopback, 10 connections, ${rounds} x ${duration}s alternating rounds per side, Node ${process.version}\n`)
    console.log('| request | bare Express req/s | with the middleware req/s | ratio |')
    console.log('|---|---:|---:|---:|')
    for (const r of rows) {
      console.log(`| ${r.label} | ${Math.round(r.bare)} | ${Math.round(r.granted)} | ${(r.granted / r.bare).toFixed(2)}x |`)
    }
    console.log(`\nSignatures: ${stats.signatures}; grants served from the cache: ${stats.hits}`)
  } finally {
    child.send('stop')
  }
}
