// Range requests on the directory origin over loopback, as S3 answers them behind CloudFront:
// an unsatisfiable range gets 416 with S3's XML error, a syntactically invalid one is ignored (RFC 9110 §14.2).
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createSigner } from '../../src/core/signer.js'
import { cloudfrontEdge, createEdgeServer } from '../../src/edge/index.js'
import { invalidRangeXml, isValidBytesRange, resolveSuffixRanges } from '../../src/edge/range.js'
import { cookieHeader, errorCode, listen, rawGet, rsaKeys, tempDir } from './helpers.js'

const HOST = 'media.example.test'
const BODY = '0123456789'
const keys = rsaKeys()
const signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey })
const grant = cookieHeader(signer.signCookiesSync(`https://${HOST}/media/*`, { expiresIn: '1h' }) as unknown as Record<string, string>)

const root = tempDir(t, 'cf-edge-416-')
mkdirSync(join(root, 'media'))
writeFileSync(join(root, 'media', 'ten.txt'), BODY)
// 10,000 bytes, each the last digit of its offset; and an empty file.
const BIG = Buffer.from(Array.from({ length: 10_000 }, (_, i) => 48 + (i % 10)))
writeFileSync(join(root, 'media', 'big.bin'), BIG)
writeFileSync(join(root, 'media', 'empty.bin'), '')

t.test('unsatisfiable ranges: 416 with the XML an S3 origin sends', async (t) => {
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root }, scheme: 'https' })
  const port = await listen(edge)
  t.teardown(() => edge.close())
  const get = (range: string, method = 'GET'): ReturnType<typeof rawGet> =>
    rawGet('127.0.0.1', port, '/media/ten.txt', { host: HOST, cookie: grant, range }, method)

  for (const range of ['bytes=10-', 'bytes=100-200', 'bytes=-0', 'bytes=10-, 20-30']) {
    const res = await get(range)
    t.equal(res.status, 416, `${range}: 416`)
    t.equal(res.headers['content-type'], 'application/xml', `${range}: XML, not Fastify's JSON`)
    t.equal(res.headers['content-range'], 'bytes */10', `${range}: Content-Range gives the size (RFC 9110 §15.5.17)`)
    t.equal(errorCode(res.body), 'InvalidRange', `${range}: S3's code`)
    t.equal(res.body.toString(), '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code>' +
      `<Message>The requested range is not satisfiable</Message><RangeRequested>${range}</RangeRequested>` +
      '<ActualObjectSize>10</ActualObjectSize></Error>', `${range}: the whole document`)
  }
  const head = await get('bytes=10-', 'HEAD')
  t.equal(head.status, 416, 'HEAD: 416')
  t.equal(head.body.length, 0, 'HEAD: no body')

  const unsigned = await rawGet('127.0.0.1', port, '/media/ten.txt', { host: HOST, range: 'bytes=10-' })
  t.equal(unsigned.status, 403, 'the signature is judged before the range')
  t.equal(errorCode(unsigned.body), 'MissingKey')
  const missing = await rawGet('127.0.0.1', port, '/media/none.txt', { host: HOST, cookie: grant, range: 'bytes=10-' })
  t.equal(missing.status, 404, 'a missing file is 404 whatever the range')
})

t.test('syntactically invalid ranges are ignored: 200 and the whole body', async (t) => {
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root }, scheme: 'https' })
  const port = await listen(edge)
  t.teardown(() => edge.close())
  const get = (range: string): ReturnType<typeof rawGet> =>
    rawGet('127.0.0.1', port, '/media/ten.txt', { host: HOST, cookie: grant, range })

  for (const range of ['bytes=5-2', 'bytes=0-1,5-2', 'bytes=abc', 'bytes=', 'bytes=1-2-3', 'bytes=--1', 'items=0-1', 'bytes 0-1']) {
    const res = await get(range)
    t.equal(res.status, 200, `${range}: 200`)
    t.equal(res.body.toString(), BODY, `${range}: the whole body`)
    t.equal(res.headers['content-range'], undefined, `${range}: no Content-Range`)
  }
  for (const [range, part] of [['bytes=2-5', '2345'], ['bytes=5-5', '5'], ['bytes=-3', '789'], ['bytes=8-', '89'], ['bytes=8-100', '89']]) {
    const res = await get(range as string)
    t.equal(res.status, 206, `${range}: still 206`)
    t.equal(res.body.toString(), part, `${range}: the part`)
  }
})

t.test('suffix ranges, read against the file\'s size as RFC 9110 and S3 read them', async (t) => {
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root }, scheme: 'https' })
  const port = await listen(edge)
  t.teardown(() => edge.close())
  const get = (file: string, range: string, method = 'GET'): ReturnType<typeof rawGet> =>
    rawGet('127.0.0.1', port, `/media/${file}`, { host: HOST, cookie: grant, range }, method)

  // A suffix longer than the file: the whole file, as a 206 that names every byte.
  for (const range of ['bytes=-20000', 'bytes=-10001', `bytes=-${'9'.repeat(30)}`, 'bytes= -20000 ']) {
    const res = await get('big.bin', range)
    t.equal(res.status, 206, `${range}: 206`)
    t.equal(res.headers['content-range'], 'bytes 0-9999/10000', `${range}: the whole file`)
    t.equal(res.headers['content-length'], '10000')
    t.ok(res.body.equals(BIG), `${range}: every byte`)
  }
  const head = await get('big.bin', 'bytes=-20000', 'HEAD')
  t.equal(head.status, 206, 'HEAD: 206')
  t.equal(head.headers['content-range'], 'bytes 0-9999/10000')
  t.equal(head.body.length, 0, 'HEAD: no body')
  // The neighbours, served as before.
  const cases: Array<[string, number, string | undefined, Buffer]> = [
    ['bytes=-10000', 206, 'bytes 0-9999/10000', BIG],
    ['bytes=-20', 206, 'bytes 9980-9999/10000', BIG.subarray(9980)],
    ['bytes=0-', 206, 'bytes 0-9999/10000', BIG],
    ['bytes=9999-20000', 206, 'bytes 9999-9999/10000', BIG.subarray(9999)],
    ['bytes=9990-, -20000', 206, 'bytes 0-9999/10000', BIG]
  ]
  for (const [range, status, contentRange, body] of cases) {
    const res = await get('big.bin', range)
    t.equal(res.status, status, `${range}: ${status}`)
    t.equal(res.headers['content-range'], contentRange, `${range}: ${contentRange ?? 'no Content-Range'}`)
    t.ok(res.body.equals(body), `${range}: the bytes`)
  }
  for (const range of ['bytes=-0', 'bytes=10000-', 'bytes=10000-20000']) {
    const res = await get('big.bin', range)
    t.equal(res.status, 416, `${range}: 416, unsatisfiable`)
    t.equal(res.headers['content-range'], 'bytes */10000')
    t.equal(errorCode(res.body), 'InvalidRange')
  }

  // An empty file: a non-zero suffix is satisfiable and names no byte, so the file is served whole (S3: 200, empty).
  for (const range of ['bytes=-1', 'bytes=-20000', 'bytes=0-0, -5']) {
    const res = await get('empty.bin', range)
    t.equal(res.status, 200, `empty file, ${range}: 200`)
    t.equal(res.headers['content-range'], undefined, `empty file, ${range}: no Content-Range`)
    t.equal(res.headers['content-length'], '0')
  }
  for (const range of ['bytes=0-', 'bytes=0-0', 'bytes=-0']) {
    const res = await get('empty.bin', range)
    t.equal(res.status, 416, `empty file, ${range}: 416`)
    t.equal(res.headers['content-range'], 'bytes */0')
  }

  // The size is looked up only for a signed request, and a missing file stays missing.
  const unsigned = await rawGet('127.0.0.1', port, '/media/big.bin', { host: HOST, range: 'bytes=-20000' })
  t.equal(unsigned.status, 403, 'unsigned: refused first')
  const missing = await get('none.bin', 'bytes=-20000')
  t.equal(missing.status, 404, 'a missing file: 404')
  const encoded = await get('b%69g.bin', 'bytes=-20000')
  t.equal(encoded.headers['content-range'], 'bytes 0-9999/10000', 'a percent-encoded path names the same file')
})

t.test('the XML answer covers the edge\'s files, not the routes of an app it is registered in', async (t) => {
  const app = Fastify()
  await app.register(cloudfrontEdge, { keys: { K1: keys.publicKey }, origin: { root }, scheme: 'https', behaviors: [{ pathPattern: '/api/*', public: true }] })
  app.get('/api/range', async () => {
    throw Object.assign(new Error('the app\'s own 416'), { statusCode: 416 })
  })
  const port = await listen(app)
  t.teardown(() => app.close())
  const own = await rawGet('127.0.0.1', port, '/api/range', { host: HOST })
  t.equal(own.status, 416)
  t.match(own.headers['content-type'], /^application\/json/, "the app's error handler answers its own routes")
  const file = await rawGet('127.0.0.1', port, '/media/ten.txt', { host: HOST, cookie: grant, range: 'bytes=50-' })
  t.equal(file.status, 416)
  t.equal(errorCode(file.body), 'InvalidRange')
})

t.test('suffix ranges resolved against a size', async (t) => {
  t.equal(resolveSuffixRanges('bytes=-20000', 10_000), 'bytes=0-')
  t.equal(resolveSuffixRanges('bytes=-10000', 10_000), 'bytes=-10000', 'as long as the file: left as it is')
  t.equal(resolveSuffixRanges('bytes=-0', 10_000), 'bytes=-0', 'zero: unsatisfiable, left as it is')
  t.equal(resolveSuffixRanges('bytes=0-1, -50,-5', 10), 'bytes=0-1,0-,-5', 'each spec on its own')
  t.equal(resolveSuffixRanges('bytes=-1', 0), undefined, 'an empty file: served whole')
  t.equal(resolveSuffixRanges('bytes=-0', 0), 'bytes=-0')
})

t.test('the range grammar, and the escaping of what the viewer sent', async (t) => {
  for (const ok of ['bytes=0-0', 'bytes=0-', 'bytes=-5', 'BYTES=1-2', 'bytes=1-2, 4-5', 'bytes=1-2,,4-5', 'bytes=\t1-2 ', `bytes=${'9'.repeat(30)}-`]) {
    t.ok(isValidBytesRange(ok), `${ok} is valid`)
  }
  for (const bad of ['bytes=5-2', 'bytes=', 'bytes=,', 'bytes=1', 'bytes=-', 'bytes=a-b', 'bytes=1-2;', 'bytes=+1-2', 'range', `bytes=${'9'.repeat(30)}-1`]) {
    t.notOk(isValidBytesRange(bad), `${bad} is invalid`)
  }
  t.equal(invalidRangeXml('bytes=<a>&"\'\u00e9', undefined),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>' +
    '<RangeRequested>bytes=&#60;a&#62;&#38;&#34;&#39;?</RangeRequested></Error>')
  t.equal(invalidRangeXml('x'.repeat(1000), 1).length < 500, true, 'a long range is cut')
})
