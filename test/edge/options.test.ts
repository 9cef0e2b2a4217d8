// Registration-time validation, and the options that change what a viewer sees:
// CORS, debug, the viewer host and scheme, onDeny, and the cache of verified grants.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createSigner } from '../../src/core/signer.js'
import { encodeBase64 } from '../../src/core/encoding.js'
import edgeDefault, { cloudfrontEdge, createEdgeServer, EDGE_REASON_HEADER, type CloudFrontEdgeOptions, type EdgeDenial } from '../../src/edge/index.js'
import { cookieHeader, errorCode, listen, rawGet, rsaKeys, tempDir } from './helpers.js'

const keys = rsaKeys()
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string
const signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey })

t.test('the plugin is the default and the named export', async (t) => {
  t.equal(edgeDefault, cloudfrontEdge)
})

t.test('bad options fail registration with a coded error naming the option', async (t) => {
  const root = tempDir(t, 'cf-edge-opts-')
  writeFileSync(join(root, 'file.txt'), 'x')
  const good = { keys: { K1: publicPem }, origin: { root } }
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['no options', undefined, 'FST_ERR_CF_INVALID_OPTION', /keys/],
    ['no keys', { ...good, keys: {} }, 'FST_ERR_CF_INVALID_OPTION', /keys/],
    ['a bad key ID', { ...good, keys: { 'K 1': publicPem } }, 'FST_ERR_CF_INVALID_OPTION', /key ID/],
    ['a key that is not PEM', { ...good, keys: { K1: '/path/to/public.pem' } }, 'FST_ERR_CF_INVALID_KEY', /PEM/],
    ['no origin', { keys: good.keys }, 'FST_ERR_CF_INVALID_OPTION', /origin/],
    ['both origins', { ...good, origin: { root, upstream: 'http://127.0.0.1:1' } }, 'FST_ERR_CF_INVALID_OPTION', /exactly one/],
    ['a root that is a file', { ...good, origin: { root: join(root, 'file.txt') } }, 'FST_ERR_CF_INVALID_OPTION', /not a directory/],
    ['a root that does not exist', { ...good, origin: { root: join(root, 'missing') } }, 'FST_ERR_CF_INVALID_OPTION', /not a directory/],
    ['an upstream that is not a URL', { ...good, origin: { upstream: '127.0.0.1:3000' } }, 'FST_ERR_CF_INVALID_OPTION', /origin\.upstream/],
    ['an upstream with a path', { ...good, origin: { upstream: 'http://127.0.0.1:3000/media' } }, 'FST_ERR_CF_INVALID_OPTION', /only the scheme, host and port/],
    ['behaviours that are not an array', { ...good, behaviors: {} }, 'FST_ERR_CF_INVALID_OPTION', /behaviors/],
    ['a behaviour without a pattern', { ...good, behaviors: [{ public: true }] }, 'FST_ERR_CF_INVALID_OPTION', /behaviors\[0\]\.pathPattern/],
    ['a pattern with a space', { ...good, behaviors: [{ pathPattern: '/a b/*', public: true }] }, 'FST_ERR_CF_INVALID_OPTION', /pathPattern/],
    ['a pattern listed twice', { ...good, behaviors: [{ pathPattern: '/a/*', public: true }, { pathPattern: 'a/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /listed twice/],
    ['* before the last behaviour', { ...good, behaviors: [{ pathPattern: '*' }, { pathPattern: '/a/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /only the last/],
    ['an unknown trusted key', { ...good, behaviors: [{ pathPattern: '/a/*', trustedKeyIds: ['K2'] }] }, 'FST_ERR_CF_INVALID_OPTION', /"K2" is not one of the keys/],
    ['no trusted keys', { ...good, behaviors: [{ pathPattern: '/a/*', trustedKeyIds: [] }] }, 'FST_ERR_CF_INVALID_OPTION', /trustedKeyIds/],
    ['public and trusted keys', { ...good, behaviors: [{ pathPattern: '/a/*', public: true, trustedKeyIds: ['K1'] }] }, 'FST_ERR_CF_INVALID_OPTION', /not both/],
    ['public that is not a boolean', { ...good, behaviors: [{ pathPattern: '/a/*', public: 'yes' }] }, 'FST_ERR_CF_INVALID_OPTION', /public/],
    ['CORS with *', { ...good, cors: { origins: ['*'] } }, 'FST_ERR_CF_INVALID_OPTION', /credentials/],
    ['CORS with a path', { ...good, cors: { origins: ['https://app.example.com/player'] } }, 'FST_ERR_CF_INVALID_OPTION', /not an origin/],
    ['CORS without origins', { ...good, cors: {} }, 'FST_ERR_CF_INVALID_OPTION', /cors/],
    ['a negative CORS max age', { ...good, cors: { origins: ['https://app.example.com'], maxAge: -1 } }, 'FST_ERR_CF_INVALID_OPTION', /maxAge/],
    ['a bad scheme', { ...good, scheme: 'ftp' }, 'FST_ERR_CF_INVALID_OPTION', /scheme/],
    ['a host with a path', { ...good, host: 'media.example.com/x' }, 'FST_ERR_CF_INVALID_OPTION', /host/],
    ['a clock that is not a function', { ...good, now: 5 }, 'FST_ERR_CF_INVALID_OPTION', /now/],
    ['a fractional cache size', { ...good, cacheSize: 1.5 }, 'FST_ERR_CF_INVALID_OPTION', /cacheSize/],
    ['debug that is not a boolean', { ...good, debug: 'yes' }, 'FST_ERR_CF_INVALID_OPTION', /debug/],
    ['onDeny that is not a function', { ...good, onDeny: true }, 'FST_ERR_CF_INVALID_OPTION', /onDeny/]
  ]
  for (const [name, options, code, message] of cases) {
    const app = Fastify()
    app.register(cloudfrontEdge, options as CloudFrontEdgeOptions)
    await t.rejects(async () => { await app.ready() }, { code, message }, name)
    await app.close()
  }
  await t.rejects(createEdgeServer({ ...good, scheme: 'ftp' } as unknown as CloudFrontEdgeOptions), { code: 'FST_ERR_CF_INVALID_OPTION' }, 'createEdgeServer rejects too')
  const fine = await createEdgeServer(good)
  t.type(fine.cloudfrontEdge.stats, 'function', 'and accepts good options')
  await fine.close()
})

t.test('CORS with credentials for the listed origins', async (t) => {
  const root = tempDir(t, 'cf-edge-cors-')
  writeFileSync(join(root, 'seg.ts'), 'segment')
  const app = await createEdgeServer({ keys: { K1: publicPem }, origin: { root }, cors: { origins: ['http://player.test:5173'], maxAge: 60 } })
  t.teardown(() => app.close())
  const port = await listen(app)
  const cookie = cookieHeader(signer.signCookiesSync(`http://127.0.0.1:${port}/*`, { expiresIn: 600 }) as unknown as Record<string, string>)
  const allowed = 'http://player.test:5173'

  const preflight = await rawGet('127.0.0.1', port, '/seg.ts', { origin: allowed, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' }, 'OPTIONS')
  t.equal(preflight.status, 204, 'a preflight from an allowed origin is answered without cookies')
  t.equal(preflight.headers['access-control-allow-origin'], allowed)
  t.equal(preflight.headers['access-control-allow-credentials'], 'true')
  t.equal(preflight.headers['access-control-allow-methods'], 'GET, HEAD')
  t.equal(preflight.headers['access-control-allow-headers'], 'range')
  t.equal(preflight.headers['access-control-max-age'], '60')

  const strangerPreflight = await rawGet('127.0.0.1', port, '/seg.ts', { origin: 'http://evil.test', 'access-control-request-method': 'GET' }, 'OPTIONS')
  t.equal(strangerPreflight.status, 403, 'a preflight from another origin is judged like any request')
  t.equal(strangerPreflight.headers['access-control-allow-origin'], undefined)

  const read = await rawGet('127.0.0.1', port, '/seg.ts', { origin: allowed, cookie })
  t.equal(read.status, 200)
  t.equal(read.body.toString(), 'segment')
  t.equal(read.headers['access-control-allow-origin'], allowed)
  t.equal(read.headers['access-control-allow-credentials'], 'true')
  t.match(read.headers['access-control-expose-headers'], /Content-Range/)
  t.match(read.headers.vary, /Origin/)

  const denied = await rawGet('127.0.0.1', port, '/seg.ts', { origin: allowed })
  t.equal(denied.status, 403)
  t.equal(denied.headers['access-control-allow-origin'], allowed, 'the player can read why it was refused')

  const stranger = await rawGet('127.0.0.1', port, '/seg.ts', { origin: 'http://evil.test', cookie })
  t.equal(stranger.status, 200, 'CORS does not change the verdict')
  t.equal(stranger.headers['access-control-allow-origin'], undefined, 'but another origin cannot read the answer')
  t.match(stranger.headers.vary, /Origin/)
})

t.test('the edge\'s CORS answer replaces the upstream\'s', async (t) => {
  const upstream = Fastify()
  upstream.get('/*', (_request, reply) => {
    reply.header('access-control-allow-origin', '*').header('vary', 'Accept-Encoding').send('from upstream')
  })
  const upstreamPort = await listen(upstream)
  const app = await createEdgeServer({
    keys: { K1: publicPem },
    origin: { upstream: `http://127.0.0.1:${upstreamPort}` },
    behaviors: [{ pathPattern: '*', public: true }],
    cors: { origins: ['https://app.example.com'] }
  })
  t.teardown(async () => {
    await app.close()
    await upstream.close()
  })
  const port = await listen(app)
  const res = await rawGet('127.0.0.1', port, '/x', { origin: 'https://app.example.com' })
  t.equal(res.status, 200)
  t.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
  t.equal(res.headers['access-control-allow-credentials'], 'true')
  t.equal(res.headers.vary, 'Accept-Encoding, Origin')
})

t.test('debug adds the reason; onDeny hears every refusal', async (t) => {
  const root = tempDir(t, 'cf-edge-debug-')
  writeFileSync(join(root, 'seg.ts'), 'segment')
  const denials: Array<{ url: string, denial: EdgeDenial }> = []
  const app = await createEdgeServer({
    keys: { K1: publicPem },
    origin: { root },
    debug: true,
    onDeny (request, denial) {
      denials.push({ url: request.url, denial })
      if (request.url === '/boom') throw new Error('a broken onDeny does not change the answer')
    }
  })
  t.teardown(() => app.close())
  const port = await listen(app)
  const res = await rawGet('127.0.0.1', port, '/seg.ts')
  t.equal(res.status, 403)
  t.equal(res.headers[EDGE_REASON_HEADER], 'no Key-Pair-Id was sent')
  const boom = await rawGet('127.0.0.1', port, '/boom')
  t.equal(errorCode(boom.body), 'MissingKey')
  // A resource in a signed policy can hold any character; the reason header must stay valid.
  const json = JSON.stringify({ Statement: [{ Resource: 'https://other.example/\n\u00e9/*', Condition: { DateLessThan: { 'AWS:EpochTime': 2000000000 } } }] })
  const odd = await rawGet('127.0.0.1', port, '/seg.ts', {
    cookie: `CloudFront-Policy=${encodeBase64(json)}; CloudFront-Signature=${signer.signPolicySync(json)}; CloudFront-Key-Pair-Id=K1`
  })
  t.equal(odd.status, 403)
  t.match(odd.headers[EDGE_REASON_HEADER], /^the policy resource https:\/\/other\.example\/\?\?\/\* does not cover/)
  t.same(denials.map((d) => [d.url, d.denial.code]), [['/seg.ts', 'MissingKey'], ['/boom', 'MissingKey'], ['/seg.ts', 'AccessDenied']])
  t.equal(denials[0]?.denial.message, 'Missing Key-Pair-Id query parameter or cookie value')
})

t.test('the viewer host and scheme can be fixed when the edge runs elsewhere', async (t) => {
  const root = tempDir(t, 'cf-edge-host-')
  writeFileSync(join(root, 'seg.ts'), 'segment')
  const app = await createEdgeServer({ keys: { K1: publicPem }, origin: { root }, scheme: 'https', host: 'media.example.com' })
  t.teardown(() => app.close())
  const port = await listen(app)
  const cookie = cookieHeader(signer.signCookiesSync('https://media.example.com/*', { expiresIn: 600 }) as unknown as Record<string, string>)
  t.equal((await rawGet('127.0.0.1', port, '/seg.ts', { cookie })).status, 200, 'judged as https://media.example.com/seg.ts')
  const local = cookieHeader(signer.signCookiesSync(`http://127.0.0.1:${port}/*`, { expiresIn: 600 }) as unknown as Record<string, string>)
  t.equal((await rawGet('127.0.0.1', port, '/seg.ts', { cookie: local })).status, 403, 'the Host header no longer counts')
})

t.test('a verified grant is remembered until it expires', async (t) => {
  const root = tempDir(t, 'cf-edge-cache-')
  for (let i = 0; i < 5; i++) writeFileSync(join(root, `seg${i}.ts`), `segment ${i}`)
  let clock = Date.now()
  const app = await createEdgeServer({ keys: { K1: publicPem }, origin: { root }, now: () => clock })
  t.teardown(() => app.close())
  const port = await listen(app)
  const expires = Math.floor(clock / 1000) + 60
  const cookie = cookieHeader(signer.signCookiesSync(`http://127.0.0.1:${port}/*`, { expires }) as unknown as Record<string, string>)
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 5; i++) {
      const res = await rawGet('127.0.0.1', port, `/seg${i}.ts`, { cookie })
      t.equal(res.status, 200)
    }
  }
  t.same(app.cloudfrontEdge.stats(), { verifications: 1, cacheHits: 49 }, 'one RSA verification for fifty segments')
  const narrow = signer.signCookiesSync(`http://127.0.0.1:${port}/seg1.ts*`, { expires, ipAddress: '127.0.0.1' }) as unknown as Record<string, string>
  t.equal((await rawGet('127.0.0.1', port, '/seg1.ts', { cookie: cookieHeader(narrow) })).status, 200)
  const remembered: Array<[string, string, string]> = [
    ['/seg2.ts', cookieHeader(narrow), 'AccessDenied'],
    ['/seg1.ts', `${cookieHeader(narrow)}; CloudFront-Expires=${expires}`, 'MalformedPolicy'],
    ['/seg1.ts', `${cookieHeader(narrow)}; CloudFront-Hash-Algorithm=SHA256`, 'AccessDenied'],
    ['/seg1.ts', cookieHeader({ ...narrow, 'CloudFront-Key-Pair-Id': 'K2' }), 'InvalidKey']
  ]
  for (const [path, jar, code] of remembered) {
    const res = await rawGet('127.0.0.1', port, path, { cookie: jar })
    t.equal(errorCode(res.body), code, `a remembered grant is still judged on everything else: ${code}`)
  }
  t.equal(app.cloudfrontEdge.stats().verifications, 3, 'only the changed algorithm needed a new verification')
  clock = expires * 1000
  const late = await rawGet('127.0.0.1', port, '/seg0.ts', { cookie })
  t.equal(late.status, 403, 'the remembered grant still expires')
  t.equal(errorCode(late.body), 'AccessDenied')
})
