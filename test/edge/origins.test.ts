// Both origin kinds over loopback: a large file whole and in ranges, byte-exact; streaming from
// an upstream; what is forwarded upstream, and what never is.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import { createSigner } from '../../src/core/signer.js'
import { createEdgeServer } from '../../src/edge/index.js'
import { cookieHeader, errorCode, listen, rawGet, rsaKeys, tempDir } from './helpers.js'

const HOST = 'media.example.test'
const BASE = `https://${HOST}`
const BIG_SIZE = 6 * 1024 * 1024 + 12345
const keys = rsaKeys()
const signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey })
const sha256Signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey, hashAlgorithm: 'SHA256' })
const grant = cookieHeader(signer.signCookiesSync(`${BASE}/media/*`, { expiresIn: '1h' }) as unknown as Record<string, string>)
const path = (signedUrl: string): string => signedUrl.slice(BASE.length)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

t.test('a large file, whole and in ranges, byte-exact through both origin kinds', async (t) => {
  const root = tempDir(t, 'cf-edge-range-')
  mkdirSync(join(root, 'media'))
  const big = randomBytes(BIG_SIZE)
  writeFileSync(join(root, 'media', 'big.bin'), big)

  const upstream = Fastify()
  await upstream.register(fastifyStatic, { root })
  const upstreamPort = await listen(upstream)
  const viaDirectory = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root }, scheme: 'https' })
  const viaUpstream = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { upstream: `http://127.0.0.1:${upstreamPort}` }, scheme: 'https' })
  const edges = { directory: await listen(viaDirectory), upstream: await listen(viaUpstream) }
  t.teardown(async () => {
    await viaDirectory.close()
    await viaUpstream.close()
    await upstream.close()
  })

  for (const [kind, port] of Object.entries(edges)) {
    const get = (headers: Record<string, string> = {}, method = 'GET'): ReturnType<typeof rawGet> =>
      rawGet('127.0.0.1', port, '/media/big.bin', { host: HOST, cookie: grant, ...headers }, method)

    const whole = await get()
    t.equal(whole.status, 200, `${kind}: whole file`)
    t.equal(whole.body.length, BIG_SIZE, `${kind}: whole length`)
    t.equal(sha(whole.body), sha(big), `${kind}: whole file byte-exact`)
    t.equal(whole.headers['accept-ranges'], 'bytes', `${kind}: ranges advertised`)

    const ranges: Array<[string, number, number]> = [
      ['bytes=1000000-4999999', 1000000, 4999999],
      ['bytes=0-0', 0, 0],
      [`bytes=-${65536}`, BIG_SIZE - 65536, BIG_SIZE - 1],
      ['bytes=6000000-', 6000000, BIG_SIZE - 1]
    ]
    for (const [range, start, end] of ranges) {
      const part = await get({ range })
      t.equal(part.status, 206, `${kind} ${range}: partial content`)
      t.equal(part.headers['content-range'], `bytes ${start}-${end}/${BIG_SIZE}`, `${kind} ${range}: content-range`)
      t.ok(part.body.equals(big.subarray(start, end + 1)), `${kind} ${range}: byte-exact`)
    }

    const unsatisfiable = await get({ range: `bytes=${BIG_SIZE + 10}-` })
    t.equal(unsatisfiable.status, 416, `${kind}: a range past the end`)

    const head = await get({}, 'HEAD')
    t.equal(head.status, 200, `${kind}: HEAD`)
    t.equal(head.headers['content-length'], String(BIG_SIZE), `${kind}: HEAD length`)
    t.equal(head.body.length, 0, `${kind}: HEAD has no body`)

    const refused = await rawGet('127.0.0.1', port, '/media/big.bin', { host: HOST, range: 'bytes=0-99' })
    t.equal(refused.status, 403, `${kind}: a range request without a grant is refused`)
    t.equal(errorCode(refused.body), 'MissingKey', `${kind}: refusal code`)
  }
})

interface Recorded { url: string, headers: IncomingHttpHeaders }

t.test('upstream origin: streaming, stripping, and refusals that never reach it', async (t) => {
  const seen: Recorded[] = []
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const CHUNK = 64 * 1024
  const recorder = createServer((req, res) => {
    seen.push({ url: req.url as string, headers: req.headers })
    if (req.url === '/media/slow.bin') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(CHUNK, 1))
      // The rest only follows once the viewer has the first chunk: an edge that buffered would never finish.
      released.then(() => res.end(Buffer.alloc(CHUNK, 2)), () => {})
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('from upstream')
  })
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve))
  const recorderPort = (recorder.address() as { port: number }).port
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { upstream: `http://127.0.0.1:${recorderPort}` }, scheme: 'https' })
  const port = await listen(edge)
  t.teardown(async () => {
    release()
    await edge.close()
    recorder.closeAllConnections()
    await new Promise((resolve) => recorder.close(resolve))
  })
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET'): ReturnType<typeof rawGet> =>
    rawGet('127.0.0.1', port, p, { host: HOST, ...headers }, method)

  await t.test('a response is streamed to the viewer as it arrives', { timeout: 20000 }, async (t) => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/media/slow.bin', headers: { host: HOST, cookie: grant }, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => {
          chunks.push(c)
          release()
        })
        res.on('end', () => resolve(Buffer.concat(chunks)))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
    t.equal(body.length, 2 * CHUNK)
    t.equal(body[0], 1)
    t.equal(body[body.length - 1], 2)
  })

  await t.test('signing parameters are stripped, other parameters kept in order', async (t) => {
    seen.length = 0
    const url = signer.signUrlSync(`${BASE}/media/rec?lang=en&v=2`, { expires: Math.floor(Date.now() / 1000) + 600 })
    t.equal((await get(path(url))).status, 200)
    const sha256Url = sha256Signer.signUrlSync(`${BASE}/media/rec`, { expiresIn: 600 })
    t.equal((await get(path(sha256Url))).status, 200)
    const custom = signer.signUrlSync(`${BASE}/media/rec?x`, { resource: `${BASE}/media/*`, expiresIn: 600 })
    t.equal((await get(path(custom))).status, 200)
    t.same(seen.map((r) => r.url), ['/media/rec?lang=en&v=2', '/media/rec', '/media/rec?x'])
  })

  await t.test('CloudFront cookies are stripped, other cookies kept', async (t) => {
    seen.length = 0
    t.equal((await get('/media/rec', { cookie: `session=abc; ${grant}; theme=dark` })).status, 200)
    t.equal((await get('/media/rec', { cookie: grant })).status, 200)
    t.equal(seen.length, 2)
    t.equal(seen[0]?.headers.cookie, 'session=abc; theme=dark')
    t.notOk('cookie' in (seen[1]?.headers ?? {}), 'no Cookie header when only CloudFront cookies were sent')
    t.equal(seen[0]?.headers.host, `127.0.0.1:${recorderPort}`, 'the origin sees its own host name')
  })

  await t.test('refused requests never reach the origin', async (t) => {
    seen.length = 0
    const expired = cookieHeader(createSigner({ keyPairId: 'K1', privateKey: keys.privateKey, now: () => Date.now() - 7200_000 })
      .signCookiesSync(`${BASE}/media/*`, { expiresIn: 60 }) as unknown as Record<string, string>)
    const refusals: Array<[string, Record<string, string>, number, string]> = [
      ['/media/rec', {}, 403, 'MissingKey'],
      ['/media/rec', { cookie: expired }, 403, 'AccessDenied'],
      ['/other/rec', { cookie: grant }, 403, 'AccessDenied'],
      ['/media/rec?Expires=1&Signature=AAAA&Key-Pair-Id=K1', { cookie: grant }, 403, 'AccessDenied'],
      ['/media/%2e%2e/secret', { cookie: grant }, 400, ''],
      ['/media/%zz', { cookie: grant }, 400, '']
    ]
    for (const [p, headers, status, code] of refusals) {
      const res = await get(p, headers)
      t.equal(res.status, status, `${p}: status`)
      if (code) t.equal(errorCode(res.body), code, `${p}: code`)
    }
    t.equal((await get('/media/rec', { cookie: grant }, 'POST')).status, 405, 'POST is not an allowed method')
    t.equal(seen.length, 0, 'the origin saw none of them')
    t.equal((await get('/media/rec', { cookie: grant })).status, 200)
    t.equal(seen.length, 1, 'the origin sees an allowed request')
  })
})
