// The local edge as CloudFront for static manifests: it verifies the signed query on every request,
// serves the templated manifests as stored, and never passes the signed parameters on to its origin.
// Another user's URL, an expired one, a tampered one, and a URL for a key the templates do not name.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createEdgeServer } from '../../src/edge/index.js'
import { errorCode, listen, rawGet, rsaKeys, tempDir } from '../edge/helpers.js'
import { grantFor, KEY_ID, makeStaticCourse, manifestUrl, startEdge } from './helpers.js'

const keys = rsaKeys()
const root = tempDir(t, 'cf-static-edge-')
let course: Awaited<ReturnType<typeof makeStaticCourse>>
t.before(async () => {
  course = await makeStaticCourse(root, '42')
  await makeStaticCourse(root, '43')
})

/** Path and query of a URL, as sent on the wire. */
const wire = (url: string): string => url.slice(url.indexOf('/', 'http://'.length))

/** A signed URL of another file of the prefix: the manifest's query on it, as a player sends it. */
const sibling = (url: string, path: string): string => url.slice(0, url.indexOf('/', 'http://'.length)) + path + url.slice(url.indexOf('?'))

t.test('an upstream origin never sees Policy, Signature, Key-Pair-Id or Hash-Algorithm, nor CloudFront cookies', async (t) => {
  const seen: Array<{ url: string, cookie: string | undefined }> = []
  const origin = Fastify()
  origin.get('/*', async (request, reply) => {
    seen.push({ url: request.raw.url as string, cookie: request.headers.cookie })
    const path = (request.raw.url as string).split('?')[0] as string
    return reply.type(path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'application/octet-stream').send(readFileSync(join(root, 'published', ...path.split('/'))))
  })
  const originPort = await listen(origin)
  t.teardown(() => origin.close())
  const edge = await createEdgeServer({ keys: { [KEY_ID]: keys.publicKey }, origin: { upstream: `http://127.0.0.1:${originPort}` } })
  const port = await listen(edge)
  t.teardown(() => edge.close())
  const edgeUrl = `http://127.0.0.1:${port}`
  for (const hashAlgorithm of ['SHA1', 'SHA256'] as const) {
    seen.length = 0
    const grant = await grantFor(keys.privateKey, edgeUrl, '/courses/42/', { hashAlgorithm })
    t.equal(grant.signedQuery().includes('&Hash-Algorithm=SHA256'), hashAlgorithm === 'SHA256')
    const url = `${edgeUrl}${course.alt}?${grant.signedQuery()}`
    const master = await rawGet('127.0.0.1', port, wire(url), { cookie: 'CloudFront-Policy=x; session=abc' })
    t.equal(master.status, 200, `${hashAlgorithm}: the manifest`)
    t.equal(master.body.toString(), readFileSync(join(root, 'published', 'courses', '42', 'alt', 'master.m3u8'), 'utf8'), 'served as stored')
    const own = sibling(url, '/courses/42/alt/0/seg-000.m4s').replace('?', '?v=2&')
    t.equal((await rawGet('127.0.0.1', port, wire(own))).status, 200, 'a segment with a query of its own')
    t.same(seen, [
      { url: '/courses/42/alt/master.m3u8', cookie: 'session=abc' },
      { url: '/courses/42/alt/0/seg-000.m4s?v=2', cookie: undefined }
    ], 'the origin saw the paths and the query of their own, nothing signed')
  }
})

t.test('the folder origin: the templated manifests as stored, each request verified', async (t) => {
  const edge = await startEdge(root, { [KEY_ID]: keys.publicKey }, t)
  const port = Number(new URL(edge.url).port)
  const grant = await grantFor(keys.privateKey, edge.url, '/courses/42/')
  const url = manifestUrl(root, grant, edge.url, course.dash)
  const mpd = await rawGet('127.0.0.1', port, wire(url))
  t.equal(mpd.status, 200)
  t.match(mpd.headers['content-type'], /^application\/dash\+xml/)
  t.match(mpd.body.toString(), /<SupplementalProperty schemeIdUri="urn:mpeg:dash:urlparam:2014"><up:UrlQueryInfo xmlns:up="urn:mpeg:dash:schema:urlparam:2014" queryTemplate="\$querypart\$" useMPDUrlQuery="true"\/><\/SupplementalProperty>/)
  const playlist = await rawGet('127.0.0.1', port, wire(sibling(url, course.aes)))
  t.equal(playlist.status, 200)
  t.match(playlist.body.toString(), /^#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="Policy"\n#EXT-X-DEFINE:QUERYPARAM="Signature"\n#EXT-X-VERSION:11\n/)
  const bare = await rawGet('127.0.0.1', port, course.dash)
  t.equal(bare.status, 403, 'the manifest itself needs the signed query')
  t.equal(errorCode(bare.body), 'MissingKey')
  const literal = await rawGet('127.0.0.1', port, '/courses/42/aes/seg-000.ts?Policy={$Policy}&Signature={$Signature}&Key-Pair-Id=' + KEY_ID)
  t.equal(literal.status, 403, 'a player that does not substitute gets 403')
})

t.test('another user\'s URL, an expired one, a tampered one: 403', async (t) => {
  const edge = await startEdge(root, { [KEY_ID]: keys.publicKey }, t)
  const port = Number(new URL(edge.url).port)
  const alice = manifestUrl(root, await grantFor(keys.privateKey, edge.url, '/courses/42/'), edge.url, course.alt)
  const bob = manifestUrl(root, await grantFor(keys.privateKey, edge.url, '/courses/43/'), edge.url, '/courses/43/alt/master.m3u8')
  t.equal((await rawGet('127.0.0.1', port, wire(alice))).status, 200, 'alice\'s URL opens course 42')
  t.equal((await rawGet('127.0.0.1', port, wire(bob))).status, 200, 'bob\'s URL opens course 43')
  const cases: Array<[string, string]> = [
    ['bob\'s query on course 42\'s manifest', sibling(bob, course.alt)],
    ['bob\'s query on a segment of course 42', sibling(bob, '/courses/42/alt/0/seg-000.m4s')],
    ['alice\'s policy with bob\'s signature', alice.replace(/Signature=[^&]+/, /Signature=[^&]+/.exec(bob)?.[0] as string)],
    ['expired', manifestUrl(root, await grantFor(keys.privateKey, edge.url, '/courses/42/', { now: () => Date.now() - 3_600_000 }), edge.url, course.alt)],
    ['tampered signature', alice.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`)],
    ['tampered policy', alice.replace(/Policy=(.)/, (_m, c: string) => `Policy=${c === 'e' ? 'f' : 'e'}`)],
    ['another key pair ID', alice.replace(`Key-Pair-Id=${KEY_ID}`, 'Key-Pair-Id=K3NEWKEY000000')]
  ]
  for (const [name, url] of cases) {
    const res = await rawGet('127.0.0.1', port, wire(url))
    t.equal(res.status, 403, `${name}: 403 ${errorCode(res.body) ?? ''}`)
  }
})

t.test('rotation: the app refuses a URL for a key the templates do not name, and says to template again', async (t) => {
  const edge = await startEdge(root, { [KEY_ID]: keys.publicKey, K3NEWKEY000000: rsaKeys().publicKey }, t)
  const grant = await grantFor(keys.privateKey, edge.url, '/courses/42/', { keyPairId: 'K3NEWKEY000000' })
  t.throws(() => manifestUrl(root, grant, edge.url, course.alt), {
    code: 'FST_ERR_CF_MANIFEST_KEY',
    message: /templated for key K2JCJMDEHXQW5F \(SHA1\) and the app signs with K3NEWKEY000000 \(SHA1\): template them again with "cloudfront-cookies manifests template <in-dir> <out-dir> --key-pair-id K3NEWKEY000000"/
  })
  t.ok(manifestUrl(root, await grantFor(keys.privateKey, edge.url, '/courses/42/'), edge.url, course.alt), 'the key they name: a URL')
})
