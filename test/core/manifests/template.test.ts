// The publish-time template for static signed manifests (HLS): what it writes, that a template
// templated again is itself, what it refuses, and the app's signed URL of a templated manifest.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { templateHls, templateManifests, readManifestTemplates, signedManifestUrl, SIDECAR } from '../../../src/core/manifests/index.js'
import { compilePlaylist } from '../../../src/core/playlists/rewrite.js'
import { createSigner } from '../../../src/core/signer.js'
import { rsaKeys, tempDir } from '../../edge/helpers.js'

const K = 'K2JCJMDEHXQW5F'
const Q = `Policy={$Policy}&Signature={$Signature}&Key-Pair-Id=${K}`
const settings = { keyPairId: K }

const MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-SESSION-DATA:DATA-ID="com.example.info",URI="info.json"
#EXT-X-SESSION-KEY:METHOD=AES-128,URI="keys/session.bin"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/index.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"
video/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000,AUDIO="aud"
low/index.m3u8?v=2
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="video/iframes.m3u8"
`

const MEDIA = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MAP:URI="init.mp4"
#EXT-X-KEY:METHOD=AES-128,URI="../keys/video.bin",IV=0x00000000000000000000000000000001
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-42",KEYFORMAT="com.apple.streamingkeydelivery"
#EXTINF:2.0,
seg-0.m4s
#EXT-X-PART:DURATION=0.5,URI="seg-1.part0.m4s"
#EXTINF:2.0,
seg-1.m4s#t=0
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-2.part0.m4s"
#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=1
`

t.test('a multivariant playlist: the defines, version 11, every playlist and media URI with the templated query', async (t) => {
  const out = templateHls(MASTER, 'video.m3u8', settings)
  t.equal(out.text, `#EXTM3U
#EXT-X-DEFINE:QUERYPARAM="Policy"
#EXT-X-DEFINE:QUERYPARAM="Signature"
#EXT-X-VERSION:11
#EXT-X-SESSION-DATA:DATA-ID="com.example.info",URI="info.json?${Q}"
#EXT-X-SESSION-KEY:METHOD=AES-128,URI="keys/session.bin?${Q}"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/index.m3u8?${Q}"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"
video/index.m3u8?${Q}
#EXT-X-STREAM-INF:BANDWIDTH=200000,AUDIO="aud"
low/index.m3u8?v=2&${Q}
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="video/iframes.m3u8?${Q}"
`)
  t.equal(out.uris, 6)
  t.equal(out.master, true)
  t.equal(out.changed, true)
})

t.test('a media playlist: its own defines (no IMPORT), segments, map, key, parts, hints, reports; other schemes and fragments kept', async (t) => {
  const out = templateHls(MEDIA, 'video/index.m3u8', settings)
  t.equal(out.text, `#EXTM3U
#EXT-X-VERSION:11
#EXT-X-DEFINE:QUERYPARAM="Policy"
#EXT-X-DEFINE:QUERYPARAM="Signature"
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MAP:URI="init.mp4?${Q}"
#EXT-X-KEY:METHOD=AES-128,URI="../keys/video.bin?${Q}",IV=0x00000000000000000000000000000001
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-42",KEYFORMAT="com.apple.streamingkeydelivery"
#EXTINF:2.0,
seg-0.m4s?${Q}
#EXT-X-PART:DURATION=0.5,URI="seg-1.part0.m4s?${Q}"
#EXTINF:2.0,
seg-1.m4s?${Q}#t=0
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-2.part0.m4s?${Q}"
#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8?${Q}",LAST-MSN=1
`)
  t.equal(out.uris, 7)
  t.notMatch(out.text, /IMPORT/)
})

t.test('SHA-256: Hash-Algorithm written as a constant after the key pair ID', async (t) => {
  const out = templateHls('#EXTM3U\n#EXTINF:1,\na.ts\n', 'm.m3u8', { keyPairId: K, hashAlgorithm: 'SHA256' })
  t.match(out.text, `\na.ts?${Q}&Hash-Algorithm=SHA256\n`)
  t.notMatch(out.text, /\{\$Key-Pair-Id\}|\{\$Hash-Algorithm\}/, 'never a hyphenated reference')
})

t.test('a version of 11 or more is kept; CRLF line endings are kept', async (t) => {
  t.match(templateHls('#EXTM3U\n#EXT-X-VERSION:12\n#EXTINF:1,\na.ts\n', 'm.m3u8', settings).text, /^#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="Policy"\n#EXT-X-DEFINE:QUERYPARAM="Signature"\n#EXT-X-VERSION:12\n/)
  const crlf = templateHls('#EXTM3U\r\n#EXTINF:1,\r\na.ts\r\n', 'm.m3u8', settings).text
  t.equal(crlf, `#EXTM3U\r\n#EXT-X-VERSION:11\r\n#EXT-X-DEFINE:QUERYPARAM="Policy"\r\n#EXT-X-DEFINE:QUERYPARAM="Signature"\r\n#EXTINF:1,\r\na.ts?${Q}\r\n`)
})

t.test('templating a template changes nothing; templating it for another key changes only the key pair ID', async (t) => {
  for (const [name, text, path] of [['master', MASTER, 'video.m3u8'], ['media', MEDIA, 'video/index.m3u8'], ['crlf', '#EXTM3U\r\n#EXTINF:1,\r\na.ts?x=1\r\n', 'm.m3u8']]) {
    const once = templateHls(text as string, path as string, settings)
    const twice = templateHls(once.text, path as string, settings)
    t.equal(twice.text, once.text, `${name}: the same text`)
    t.equal(twice.changed, false, `${name}: reported unchanged`)
    t.equal(twice.uris, once.uris)
    const rotated = templateHls(once.text, path as string, { keyPairId: 'K3NEWKEY000000' })
    t.equal(rotated.text, once.text.replaceAll(`Key-Pair-Id=${K}`, 'Key-Pair-Id=K3NEWKEY000000'), `${name}: the new key in every URI, nothing else`)
    t.equal(rotated.retemplated, true)
    const sha256 = templateHls(once.text, path as string, { keyPairId: K, hashAlgorithm: 'SHA256' })
    t.equal(sha256.text, once.text.replaceAll(`Key-Pair-Id=${K}`, `Key-Pair-Id=${K}&Hash-Algorithm=SHA256`))
    t.equal(templateHls(sha256.text, path as string, settings).text, once.text, `${name}: and back to SHA-1`)
  }
})

t.test('the template is a playlist the mirror reads (one parser)', async (t) => {
  const out = templateHls(MEDIA, 'courses/42/video/index.m3u8', settings)
  t.doesNotThrow(() => compilePlaylist(out.text.replaceAll('{$Policy}', 'p').replaceAll('{$Signature}', 's').replace(/#EXT-X-DEFINE:QUERYPARAM="\w+"\n/g, ''), {
    playlistPath: '/courses/42/video/index.m3u8', distribution: 'https://media.example.com', prefix: '/courses/42/', mirror: '/hls'
  }))
})

t.test('refused: what the template cannot make safe, each beside the case it accepts', async (t) => {
  const refused: Array<[string, string, RegExp, Record<string, string>?]> = [
    ['#EXTM3U\n#EXTINF:1,\n../../x.ts\n', 'a/m.m3u8', /"\.\.\/\.\.\/x\.ts" leaves the folder/],
    ['#EXTM3U\n#EXTINF:1,\n%2e%2e/%2E%2E/x.ts\n', 'a/m.m3u8', /leaves the folder/],
    ['#EXTM3U\n#EXT-X-MAP:URI="../../init.mp4"\n', 'a/m.m3u8', /leaves the folder/],
    ['#EXTM3U\n#EXTINF:1,\nhttps://evil.example/x.ts\n', 'm.m3u8', /absolute URL/],
    ['#EXTM3U\n#EXTINF:1,\n//evil.example/x.ts\n', 'm.m3u8', /absolute URL/],
    ['#EXTM3U\n#EXTINF:1,\nhttps://evil.example/courses/42/x.ts\n', 'm.m3u8', /another host than https:\/\/media\.example\.com/, { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\nhttps://media.example.com/courses/43/x.ts\n', 'm.m3u8', /not under https:\/\/media\.example\.com\/courses\/42\//, { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\nhttps://media.example.com/courses/42/%2e%2e/43/x.ts\n', 'm.m3u8', /a path a CDN or an origin may read otherwise/, { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\n/courses/42/x.ts\n', 'm.m3u8', /a path from the host's root/],
    ['#EXTM3U\n#EXTINF:1,\n/courses/43/x.ts\n', 'm.m3u8', /not under \/courses\/42\//, { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\nx\\..\\..\\y.ts\n', 'm.m3u8', /holds "\\"/],
    ['#EXTM3U\n#EXTINF:1,\nx.ts?Signature=abc\n', 'm.m3u8', /already carries a CloudFront query parameter/],
    ['#EXTM3U\n#EXTINF:1,\nx.ts?key-pair-id=K1\n', 'm.m3u8', /already carries a CloudFront query parameter/],
    ['#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="Key-Pair-Id"\n#EXTINF:1,\nx.ts\n', 'm.m3u8', /QUERYPARAM="Key-Pair-Id": Shaka Player substitutes only names of letters, digits and "_"/],
    ['#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="my-token"\n#EXTINF:1,\nx.ts?t={$my-token}\n', 'm.m3u8', /Shaka Player/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="Policy",VALUE="x"\n#EXTINF:1,\nx.ts\n', 'm.m3u8', /defines the variable "Policy" itself \(EXT-X-DEFINE:NAME\)/],
    ['#EXTM3U\n#EXT-X-DEFINE:IMPORT="Signature"\n#EXTINF:1,\nx.ts\n', 'm.m3u8', /defines the variable "Signature" itself \(EXT-X-DEFINE:IMPORT\)/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="expires",VALUE="1"\n#EXTINF:1,\nx.ts\n', 'm.m3u8', /"expires" itself/],
    // QUERYPARAM Policy, but not where the template puts it: not one of ours.
    ['#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-DEFINE:QUERYPARAM="Policy"\n#EXT-X-DEFINE:QUERYPARAM="Signature"\n#EXTINF:1,\nx.ts\n', 'm.m3u8', /defines the variable "Policy" itself \(EXT-X-DEFINE:QUERYPARAM\)/],
    ['#EXTM3U\n#EXTINF:1,\nx.ts?p={$Policy}\n', 'm.m3u8', /refers to \{\$Policy\}/],
    // Where a URI with a value known only to the player points cannot be checked.
    ['#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="token"\n#EXTINF:1,\nx.ts?t={$token}\n', 'm.m3u8', /uses \{\$token\}/]
  ]
  for (const [text, path, message, extra] of refused) {
    t.throws(() => templateHls(text, path, { ...settings, ...extra }), { code: /FST_ERR_CF_MANIFEST_TEMPLATE|FST_ERR_CF_INVALID_PLAYLIST/, message }, JSON.stringify(text.split('\n').slice(-3).join(' ')))
  }
  const accepted: Array<[string, string, Record<string, string>?]> = [
    ['#EXTM3U\n#EXTINF:1,\n../x.ts\n', 'a/m.m3u8'],
    ['#EXTM3U\n#EXTINF:1,\n../b/../a/./x.ts\n', 'a/m.m3u8'],
    ['#EXTM3U\n#EXTINF:1,\nhttps://media.example.com/courses/42/x.ts\n', 'm.m3u8', { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\n/courses/42/a/x.ts\n', 'm.m3u8', { baseUrl: 'https://media.example.com/courses/42/' }],
    ['#EXTM3U\n#EXTINF:1,\nx.ts?signatures=2\n', 'm.m3u8'],
    ['#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="token"\n#EXTINF:1,\nx.ts\n', 'm.m3u8'],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="d",VALUE="seg"\n#EXTINF:1,\n{$d}/x.ts\n', 'm.m3u8']
  ]
  for (const [text, path, extra] of accepted) {
    const out = templateHls(text, path, { ...settings, ...extra })
    t.equal(out.uris, 1, `accepted: ${JSON.stringify(text.split('\n').slice(-2).join(' '))}`)
  }
  t.match(templateHls('#EXTM3U\n#EXT-X-DEFINE:NAME="d",VALUE="seg"\n#EXTINF:1,\n{$d}/x.ts\n', 'm.m3u8', settings).text, `\n{$d}/x.ts?${Q}\n`, 'the reference kept, for the player to substitute')
})

t.test('bad settings name the option', async (t) => {
  t.throws(() => templateHls('#EXTM3U\n', 'm.m3u8', { keyPairId: ' K1 ' }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /keyPairId/ })
  t.throws(() => templateHls('#EXTM3U\n', 'm.m3u8', { keyPairId: K, hashAlgorithm: 'sha256' as 'SHA256' }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /hashAlgorithm/ })
  t.throws(() => templateHls('#EXTM3U\n', 'm.m3u8', { keyPairId: K, baseUrl: 'https://media.example.com/courses/42' }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /baseUrl/ })
  t.equal(templateHls('#EXTM3U\n#EXT-X-ENDLIST\n', 'm.m3u8', settings).changed, false, 'nothing to sign: left as it is')
})

function folder (t: { teardown: (fn: () => void) => void }): string {
  const root = tempDir(t, 'cf-manifests-')
  mkdirSync(join(root, 'in', 'video'), { recursive: true })
  mkdirSync(join(root, 'in', 'audio'), { recursive: true })
  writeFileSync(join(root, 'in', 'master.m3u8'), MASTER.replace('low/index.m3u8?v=2', 'video/index.m3u8?v=2').replace(/#EXT-X-SESSION-(DATA|KEY).*\n/g, ''))
  writeFileSync(join(root, 'in', 'video', 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1,\nseg-0.m4s\n#EXT-X-ENDLIST\n')
  writeFileSync(join(root, 'in', 'video', 'iframes.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-I-FRAMES-ONLY\n#EXTINF:1,\n#EXT-X-BYTERANGE:100@0\nseg-0.m4s\n#EXT-X-ENDLIST\n')
  writeFileSync(join(root, 'in', 'audio', 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg-0.aac\n#EXT-X-ENDLIST\n')
  writeFileSync(join(root, 'in', 'video', 'init.mp4'), 'init')
  writeFileSync(join(root, 'in', 'video', 'seg-0.m4s'), 'segment')
  writeFileSync(join(root, 'in', 'audio', 'seg-0.aac'), 'audio')
  return root
}

t.test('a folder: manifests templated, media copied, the sidecar written; the report says what changed', async (t) => {
  const root = folder(t)
  const report = await templateManifests(join(root, 'in'), join(root, 'out'), settings)
  t.same(report.manifests, [
    { path: 'audio/index.m3u8', format: 'hls', uris: 1, status: 'templated' },
    { path: 'master.m3u8', format: 'hls', uris: 4, status: 'templated' },
    { path: 'video/iframes.m3u8', format: 'hls', uris: 1, status: 'templated' },
    { path: 'video/index.m3u8', format: 'hls', uris: 2, status: 'templated' }
  ])
  t.equal(report.copied, 3)
  t.equal(readFileSync(join(root, 'out', 'video', 'seg-0.m4s'), 'utf8'), 'segment')
  t.match(readFileSync(join(root, 'out', 'video', 'index.m3u8'), 'utf8'), `seg-0.m4s?${Q}\n`)
  t.same(readManifestTemplates(join(root, 'out')), { keyPairId: K, hashAlgorithm: 'SHA1' })
  t.same(JSON.parse(readFileSync(report.sidecar, 'utf8')).manifests, report.manifests.map((m) => m.path))

  const again = await templateManifests(join(root, 'out'), join(root, 'out'), settings)
  t.same(again.manifests.map((m) => m.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged'], 'in place, a second time: nothing changes')
  t.equal(again.copied, 0)
  const other = await templateManifests(join(root, 'out'), join(root, 'again'), settings)
  t.same(other.manifests.map((m) => m.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged'])
  t.equal(readFileSync(join(root, 'again', 'master.m3u8'), 'utf8'), readFileSync(join(root, 'out', 'master.m3u8'), 'utf8'))

  const rotated = await templateManifests(join(root, 'out'), join(root, 'out'), { keyPairId: 'K3NEWKEY000000' })
  t.same(rotated.manifests.map((m) => m.status), ['retemplated', 'retemplated', 'retemplated', 'retemplated'])
  t.same(readManifestTemplates(join(root, 'out', SIDECAR)), { keyPairId: 'K3NEWKEY000000', hashAlgorithm: 'SHA1' })
})

t.test('a folder with one manifest it cannot template: nothing is written', async (t) => {
  const root = folder(t)
  writeFileSync(join(root, 'in', 'video', 'index.m3u8'), '#EXTM3U\n#EXTINF:1,\n../../elsewhere/seg-0.ts\n')
  await t.rejects(templateManifests(join(root, 'in'), join(root, 'out'), settings), { code: 'FST_ERR_CF_MANIFEST_TEMPLATE', message: /video\/index\.m3u8: line 3: "\.\.\/\.\.\/elsewhere\/seg-0\.ts" leaves the folder/ })
  t.equal(existsSync(join(root, 'out')), false, 'no output folder')
})

t.test('a folder: a symbolic link, an output inside the input, a missing input are refused', async (t) => {
  const root = folder(t)
  symlinkSync('/etc', join(root, 'in', 'video', 'etc'))
  await t.rejects(templateManifests(join(root, 'in'), join(root, 'out'), settings), { code: 'FST_ERR_CF_MANIFEST_TEMPLATE', message: /video\/etc is a symbolic link/ })
  await t.rejects(templateManifests(join(root, 'in'), join(root, 'in', 'out'), settings), { code: 'FST_ERR_CF_INVALID_OPTION', message: /inside/ })
  await t.rejects(templateManifests(join(root, 'in'), root, settings), { code: 'FST_ERR_CF_INVALID_OPTION', message: /holds/ })
  await t.rejects(templateManifests(join(root, 'none'), join(root, 'out'), settings), { code: 'FST_ERR_CF_INVALID_OPTION', message: /is not a folder/ })
})

t.test('the app: the signed URL of a templated manifest under the grant, nothing else', async (t) => {
  const keys = rsaKeys()
  const signer = createSigner({ keyPairId: K, privateKey: keys.privateKey })
  const cookies = await signer.signCookies('https://media.example.com/courses/42/*', { expiresIn: 600 })
  const query = `Policy=${cookies['CloudFront-Policy'] as string}&Signature=${cookies['CloudFront-Signature']}&Key-Pair-Id=${K}`
  const grant = { prefix: '/courses/42/', expires: 0, signedQuery: () => query }
  const options = { distribution: 'https://media.example.com', templates: { keyPairId: K, hashAlgorithm: 'SHA1' as const } }
  t.equal(signedManifestUrl(grant, '/courses/42/master.m3u8', options), `https://media.example.com/courses/42/master.m3u8?${query}`)
  t.equal(signedManifestUrl(grant, '/courses/42/a/b.mpd', options), `https://media.example.com/courses/42/a/b.mpd?${query}`)
  for (const path of ['/courses/43/master.m3u8', '/courses/42', '/courses/42/', '/Courses/42/master.m3u8', '/courses/420/master.m3u8', 'courses/42/master.m3u8']) {
    t.throws(() => signedManifestUrl(grant, path, options), { code: 'FST_ERR_CF_MANIFEST_PATH', statusCode: 400 }, path)
  }
  for (const path of ['/courses/42/../43/master.m3u8', '/courses/42/%2e%2e/43/master.m3u8', '/courses/42/%2E%2E%2F43/master.m3u8', '/courses/42/..%5c43/master.m3u8',
    '/courses/42/a\\..\\..\\43/master.m3u8', '/courses/%34%32/master.m3u8', '/courses/42/master.m3u8?x=1', '/courses/42/master.m3u8#x', '/courses/42/.../master.m3u8']) {
    t.throws(() => signedManifestUrl(grant, path, options), { code: 'FST_ERR_CF_MANIFEST_PATH', message: /dot segments/ }, path)
  }
  t.throws(() => signedManifestUrl(grant, '/courses/42/master.m3u8', { ...options, templates: { keyPairId: 'K3NEWKEY000000', hashAlgorithm: 'SHA1' } }),
    { code: 'FST_ERR_CF_MANIFEST_KEY', message: new RegExp(`templated for key K3NEWKEY000000 \\(SHA1\\) and the app signs with ${K} \\(SHA1\\): template them again with .*--key-pair-id ${K}`) })
  t.throws(() => signedManifestUrl(grant, '/courses/42/master.m3u8', { ...options, templates: { keyPairId: K, hashAlgorithm: 'SHA256' } }),
    { code: 'FST_ERR_CF_MANIFEST_KEY', message: /\(SHA256\) and the app signs with .* \(SHA1\)/ })
  t.throws(() => signedManifestUrl({ ...grant, signedQuery: () => '' }, '/courses/42/master.m3u8', options), { code: 'FST_ERR_CF_MANIFEST_KEY', message: /no signed prefix policy/ })
  t.throws(() => signedManifestUrl(grant, '/courses/42/master.m3u8', { ...options, distribution: 'https://media.example.com/' }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /distribution/ })
  for (const err of [(() => { try { signedManifestUrl(grant, '/courses/42/master.m3u8', { ...options, templates: { keyPairId: 'K3NEWKEY000000', hashAlgorithm: 'SHA1' } }) } catch (e) { return e as Error } })()]) {
    t.notMatch(err?.message ?? '', /Policy=|Signature=/, 'nothing signed in the message')
  }
})
