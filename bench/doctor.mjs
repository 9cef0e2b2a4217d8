// The HAR doctor on long sessions: the time diagnoseHar() takes for HARs of 1,000, 4,000 and 20,000
// entries (20,000 make 14 to 17 MB here: an hour of HLS playback with renewals), and the time per entry,
// which stays flat when the doctor reads a HAR in one pass. Two sessions: a real one (an app on
// plain http setting Secure cookies, every set refused by the browser, every segment refused with
// MissingKey while an app cookie changes on each request) and a worst case no browser writes,
// where every refusal is a case of its own and every set is refused for a cause of its own.
//   npm run bench:doctor   (BENCH_ROUNDS=n, default 3: the best round is kept; BENCH_DIST=path/to/dist: another build)
import { generateKeyPairSync } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

// BENCH_DIST=path/to/another/dist measures another build the same way.
const { createSigner, diagnoseHar } = process.env.BENCH_DIST === undefined
  ? await import('fastify-cloudfront-cookies')
  : await import(pathToFileURL(`${process.env.BENCH_DIST}/esm/index.js`).href)

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SIZES = [1_000, 4_000, 20_000]
const APP = 'http://app.example.com'
const CDN = 'https://media.example.com'
const NOW = Date.UTC(2030, 0, 1)
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const signer = createSigner({ keyPairId: 'K2JCJMDEHXQW5F', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) })
const SET = signer.signCookiesSync(`${CDN}/courses/42/*`, { expires: Math.floor(NOW / 1000) + 3600 })
const MISSING_KEY = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>'

function session (entries, { renewEvery, attributes, cookie }) {
  const out = []
  for (let i = 0; i < entries; i++) {
    const startedDateTime = new Date(NOW + i * 200).toISOString()
    if (i % renewEvery === 0) {
      const headers = Object.entries(SET).map(([name, value]) => ({ name: 'set-cookie', value: `${name}=${value}; ${attributes(i)}` }))
      out.push({ startedDateTime, request: { method: 'POST', url: `${APP}/courses/42/progress`, headers: [] }, response: { status: 200, headers, content: { size: 0 } } })
    } else {
      const request = [{ name: 'Origin', value: APP }, { name: 'Cookie', value: cookie(i) }]
      const response = [{ name: 'x-cache', value: 'Error from cloudfront' }, { name: 'access-control-allow-origin', value: APP }, { name: 'access-control-allow-credentials', value: 'true' }]
      out.push({ startedDateTime, request: { method: 'GET', url: `${CDN}/courses/42/720p/seg-${i}.ts`, headers: request }, response: { status: 403, headers: response, content: { text: MISSING_KEY, mimeType: 'text/xml' } } })
    }
  }
  return { log: { version: '1.2', entries: out } }
}

const SESSIONS = {
  'a real session': { renewEvery: 10, attributes: () => 'Path=/courses/42/; Domain=example.com; Secure; HttpOnly; SameSite=Lax', cookie: (i) => `_ga=GA1.2.${i}` },
  'the worst case': { renewEvery: 2, attributes: (i) => `Path=/courses/42/; Domain=other-${i}.example; SameSite=Lax`, cookie: (i) => `CloudFront-Key-Pair-Id=K${i}` }
}

console.log(`node ${process.version}, best of ${ROUNDS} rounds`)
for (const [name, shape] of Object.entries(SESSIONS)) {
  console.log(`\n${name}`)
  console.log('entries     HAR size    time        per entry   per entry vs 1,000')
  let base
  for (const size of SIZES) {
    const har = session(size, shape)
    const bytes = JSON.stringify(har).length
    let best = Infinity
    let findings = 0
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now()
      findings = diagnoseHar(har).findings.length
      best = Math.min(best, performance.now() - start)
    }
    const perEntry = best * 1000 / size
    base ??= perEntry
    console.log(`${size.toLocaleString('en').padEnd(12)}${`${(bytes / 1e6).toFixed(1)} MB`.padEnd(12)}${`${best.toFixed(0)} ms`.padEnd(12)}${`${perEntry.toFixed(1)} µs`.padEnd(12)}${(perEntry / base).toFixed(2)}x   (${findings} findings)`)
  }
}
