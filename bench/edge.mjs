// Requests per second through the local edge (signed-cookie grant, verified once then served
// from the verifier's cache) against the same files served by a bare @fastify/static, in one run.
// Run with `npm run bench:edge` (builds first). BENCH_DURATION=seconds per measurement (default 2).
//
// The servers run in a child process so the load generator does not share their event loop.
import { fork } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FILES = [
  { name: 'playlist.m3u8', label: 'playlist, 1 KiB', size: 1024 },
  { name: 'segment.ts', label: 'segment, 1 MiB', size: 1024 * 1024 }
]

if (process.argv[2] === 'serve') {
  await serve()
} else {
  await measure()
}

async function serve () {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyStatic } = await import('@fastify/static')
  const { createEdgeServer } = await import('../dist/esm/edge/index.js')
  const { createSigner } = await import('../dist/esm/index.js')

  const dir = mkdtempSync(join(tmpdir(), 'cf-edge-bench-'))
  mkdirSync(join(dir, 'media'))
  for (const f of FILES) writeFileSync(join(dir, 'media', f.name), randomBytes(f.size))
  // Both servers use the directory origin's settings, so the only difference is the edge's judging.
  const bare = Fastify({ logger: false })
  await bare.register(fastifyStatic, { root: dir, prefix: '/', index: false, redirect: false, list: false, decorateReply: false })
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const edge = await createEdgeServer({ keys: { KBENCH: publicKey }, origin: { root: dir } })
  await bare.listen({ port: 0, host: '127.0.0.1' })
  await edge.listen({ port: 0, host: '127.0.0.1' })
  const edgePort = edge.server.address().port
  const signer = createSigner({ keyPairId: 'KBENCH', privateKey })
  const cookies = signer.signCookiesSync(`http://127.0.0.1:${edgePort}/media/*`, { expiresIn: '1h' })
  const cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ')

  process.on('message', async (msg) => {
    if (msg === 'stats') {
      process.send({ stats: edge.cloudfrontEdge.stats() })
    } else if (msg === 'stop') {
      await Promise.all([bare.close(), edge.close()])
      rmSync(dir, { recursive: true, force: true })
      process.disconnect()
    }
  })
  process.send({ bare: bare.server.address().port, edge: edgePort, cookie })
}

async function measure () {
  const { default: autocannon } = await import('autocannon')
  const duration = Number(process.env.BENCH_DURATION ?? 2)
  const rounds = 5
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = () => new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`the bench servers exited early (code ${code})`)))
  })
  const ready = await next()

  async function run (port, path, headers, seconds) {
    const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 10, duration: seconds, headers })
    if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
      throw new Error(`${path} on port ${port}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`)
    }
    return result.requests.average
  }

  const rows = []
  try {
    for (const f of FILES) {
      const path = `/media/${f.name}`
      // Both servers get the same request bytes, cookie included.
      const headers = { cookie: ready.cookie }
      await run(ready.bare, path, headers, 1)
      await run(ready.edge, path, headers, 1)
      // Alternating rounds, each side going first in turn, so drift on a shared machine hits both alike.
      const bare = []
      const edge = []
      for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) {
          bare.push(await run(ready.bare, path, headers, duration))
          edge.push(await run(ready.edge, path, headers, duration))
        } else {
          edge.push(await run(ready.edge, path, headers, duration))
          bare.push(await run(ready.bare, path, headers, duration))
        }
      }
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
      rows.push({ file: f.label, bare: mean(bare), edge: mean(edge) })
    }
    child.send('stats')
    const { stats } = await next()

    console.log(`\nEdge vs bare @fastify/static, loopback, 10 connections, ${rounds} x ${duration}s alternating rounds per side, Node ${process.version}\n`)
    console.log('| file | bare @fastify/static req/s | edge (cookie grant, cached) req/s | ratio |')
    console.log('|---|---:|---:|---:|')
    for (const r of rows) {
      console.log(`| ${r.file} | ${Math.round(r.bare)} | ${Math.round(r.edge)} | ${(r.edge / r.bare).toFixed(2)}x |`)
    }
    console.log(`\nSignature verifications: ${stats.verifications}; grants served from the verifier cache: ${stats.cacheHits}`)
    const worst = Math.min(...rows.map((r) => r.edge / r.bare))
    console.log(worst >= 0.9 ? 'Target met: at least 0.9x everywhere.' : `Below the 0.9x target (worst ${worst.toFixed(2)}x).`)
  } finally {
    child.send('stop')
  }
}
