// The local edge, over loopback, serves what the AWS .NET SDK signs: it marks every SHA-1 URL and
// cookie set with Hash-Algorithm=SHA1 / CloudFront-Hash-Algorithm=SHA1, which CloudFront accepts.
// Also a cookie set for Resource "*" and one for a domain ending in "*", as CloudFront documents them.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEdgeServer } from '../../../src/edge/index.js'
import { rawGet, errorCode, tempDir, listen, rsaKeys } from '../../edge/helpers.js'
import { load, publicKeyOf, peerSign, toCfB64, cookieHeader } from './helpers.js'
import { peerOutput } from './outputs.js'

const net = load('aws-sdk-net')
const HOST = 'd111111abcdef8.cloudfront.net'
const NOW_MS = (1767290400 - 60) * 1000

t.test('the edge accepts every .NET-signed URL and cookie set, SHA1 marker and all', async (t) => {
  const root = tempDir(t, 'cf-peers-edge-')
  for (const name of ['image.jpg', 'video.mp4', 'document.pdf', 'images/photo1.jpg', 'images/photo.jpg']) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), `the file ${name}`)
  }
  const other = rsaKeys()
  const app = await createEdgeServer({
    keys: { K1TESTKEY: publicKeyOf(net, 'sep-rsa-1024-pkcs8'), KOTHER: other.publicKey },
    origin: { root },
    scheme: 'https',
    host: HOST,
    now: () => NOW_MS
  })
  t.teardown(() => app.close())
  const port = await listen(app)
  const get = (path: string, cookie?: string) => rawGet('127.0.0.1', port, path, cookie === undefined ? {} : { cookie })

  const outputs = net.cases.filter((c) => c.key === 'sep-rsa-1024-pkcs8' && c.expected.error !== true).map((c) => ({ c, out: peerOutput(net, c) }))
  t.ok(outputs.length >= 12, `${outputs.length} .NET outputs`)
  for (const { c, out } of outputs) {
    if (out === null) continue
    const path = out.url.slice(`https://${HOST}`.length)
    const ip = /"AWS:SourceIp":"([\d.]+)\//.exec(out.policy)
    if (ip !== null) continue // the edge sees 127.0.0.1; IP-bound grants are covered by the verifier replay
    const marker = c.hashAlgorithm === 'SHA1' ? 'SHA1' : 'SHA256'
    if (out.cookieHeader === undefined) {
      t.ok(path.endsWith(`&Hash-Algorithm=${marker}`), `${c.id}: .NET's marker`)
      const res = await get(path)
      t.equal(res.status, 200, `${c.id}: served`)
      t.equal(res.body.toString(), `the file ${path.slice(1).split('?')[0] as string}`, `${c.id}: the file`)
      const bad = await get(path.replace(`Hash-Algorithm=${marker}`, 'Hash-Algorithm=SHA512'))
      t.equal(errorCode(bad.body), 'AccessDenied', `${c.id}: an unknown marker is still refused`)
    } else {
      t.match(out.cookieHeader, `CloudFront-Hash-Algorithm=${marker}`, `${c.id}: .NET's cookie marker`)
      const res = await get(new URL(out.url).pathname, out.cookieHeader)
      t.equal(res.status, 200, `${c.id}: served with the cookie set`)
      const swapped = await get(new URL(out.url).pathname, out.cookieHeader.replace(`Hash-Algorithm=${marker}`, `Hash-Algorithm=${marker === 'SHA1' ? 'SHA256' : 'SHA1'}`))
      t.equal(errorCode(swapped.body), 'AccessDenied', `${c.id}: the other marker does not verify`)
    }
  }

  for (const resource of ['*', `https://${HOST}*`, 'https://*']) {
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': 1767290400 } } }] })
    const cookie = cookieHeader({ 'CloudFront-Policy': toCfB64(policy), 'CloudFront-Signature': peerSign(other.privateKey, 'SHA1', policy), 'CloudFront-Key-Pair-Id': 'KOTHER' })
    for (const path of ['/video.mp4', '/images/photo1.jpg?w=100']) {
      t.equal((await get(path, cookie)).status, 200, `Resource ${resource} opens ${path}`)
    }
  }
})
