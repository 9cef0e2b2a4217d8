// Signatures per second: @aws-sdk/cloudfront-signer called per request with a PEM string (it parses the key
// and signs on the event loop every time) against our signer, which parses the key once, on its sync path and
// on its async path (libuv thread pool) at several concurrencies. Run with `npm run bench:sign`.
// Options: --seconds=N per row (default 3), or BENCH_SECONDS.
import { availableParallelism, cpus } from 'node:os'
import { generateKeyPairSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { getSignedCookies } from '@aws-sdk/cloudfront-signer'
import { createSigner } from 'fastify-cloudfront-cookies'

const arg = process.argv.find((a) => a.startsWith('--seconds='))
const SECONDS = Number(arg ? arg.slice('--seconds='.length) : process.env.BENCH_SECONDS ?? 3)
if (!(SECONDS > 0 && SECONDS <= 60)) throw new Error('--seconds must be between 0 and 60')
const WARMUP_SECONDS = Math.min(0.5, SECONDS / 4)
const CONCURRENCIES = [1, 4, 16, 64]

const KEY_PAIR_ID = 'K2JCJMDEHXQW5F'
const RESOURCE = 'https://media.example.com/courses/42/*'
const nowS = Math.floor(Date.now() / 1000)
// A prefix grant with a start time: both sides build the same custom policy
// (the SDK would emit the canned set for a wildcard with only an expiry).
const EXPIRES = nowS + 900
const NOT_BEFORE = nowS - 60

const keys = [
  ['RSA-2048', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ECDSA P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' })]
].map(([name, pair]) => ({ name, pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) }))

function sdkSign (pem) {
  return getSignedCookies({
    url: RESOURCE,
    keyPairId: KEY_PAIR_ID,
    privateKey: pem,
    dateLessThan: new Date(EXPIRES * 1000),
    dateGreaterThan: new Date(NOT_BEFORE * 1000)
  })
}

/** Runs `fn` in a tight loop for `seconds`; returns operations per second. */
function measureSync (fn, seconds) {
  let ops = 0
  const start = performance.now()
  const end = start + seconds * 1000
  let now = start
  while (now < end) {
    for (let i = 0; i < 8; i++) fn()
    ops += 8
    now = performance.now()
  }
  return ops / ((now - start) / 1000)
}

/** Keeps `concurrency` calls of `fn` in flight for `seconds`; returns completed operations per second. */
async function measureAsync (fn, concurrency, seconds) {
  let ops = 0
  const start = performance.now()
  const end = start + seconds * 1000
  async function worker () {
    while (performance.now() < end) {
      await fn()
      ops++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return ops / ((performance.now() - start) / 1000)
}

// Rows are measured in interleaved rounds and each row reports its median round, so a burst of load from
// elsewhere on the machine lands on every row alike instead of skewing one of them.
const ROUNDS = 3

const rows = []
for (const key of keys) {
  const signer = createSigner({ keyPairId: KEY_PAIR_ID, privateKey: key.pem })
  const opts = { expires: EXPIRES, notBefore: NOT_BEFORE }
  const sign = () => signer.signCookiesSync(RESOURCE, opts)
  const signAsync = () => signer.signCookies(RESOURCE, opts)

  // Same policy on both sides; RSA PKCS#1 v1.5 is deterministic, so the cookies must be identical.
  const ours = sign()
  const sdk = sdkSign(key.pem)
  if (ours['CloudFront-Policy'] !== sdk['CloudFront-Policy']) throw new Error(`${key.name}: policies differ`)
  if (key.name.startsWith('RSA') && ours['CloudFront-Signature'] !== sdk['CloudFront-Signature']) throw new Error(`${key.name}: signatures differ`)

  const cases = [
    { path: 'SDK getSignedCookies, PEM string per call (baseline)', run: (s) => measureSync(() => sdkSign(key.pem), s) },
    { path: 'signCookiesSync', run: (s) => measureSync(sign, s) },
    ...CONCURRENCIES.map((c) => ({ path: `signCookies (async), concurrency ${c}`, run: (s) => measureAsync(signAsync, c, s) }))
  ]
  process.stderr.write(`${key.name}: warming up\n`)
  for (const c of cases) await c.run(WARMUP_SECONDS)
  const samples = cases.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) samples[i].push(await c.run(SECONDS / ROUNDS))
    process.stderr.write(`${key.name}: round ${round + 1}/${ROUNDS} done\n`)
  }
  const medians = samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)])
  for (const [i, c] of cases.entries()) rows.push({ key: key.name, path: c.path, ops: medians[i], baseline: medians[0] })
}

const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU'
console.log(`\nSignatures per second: median of ${ROUNDS} interleaved rounds, ${SECONDS} s per row in all, after ${WARMUP_SECONDS} s warm-up.`)
console.log(`Node ${process.version}, ${availableParallelism()} CPUs (${cpuModel}), UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}.\n`)
console.log('| Key | Path | Signatures/s | vs SDK |')
console.log('|---|---|---:|---:|')
for (const r of rows) {
  console.log(`| ${r.key} | ${r.path} | ${Math.round(r.ops).toLocaleString('en-US')} | ${(r.ops / r.baseline).toFixed(2)}x |`)
}
