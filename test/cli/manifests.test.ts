// `cloudfront-cookies manifests template`, run as users run it: the built bin in its own process.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../edge/helpers.js'
import { builtCli, runner } from './helpers.js'

const BIN = builtCli(t, 'manifests')
const run = runner(BIN, [])
const K = 'K2JCJMDEHXQW5F'

function course (root: string): string {
  const dir = join(root, 'in')
  mkdirSync(join(dir, 'hd'), { recursive: true })
  writeFileSync(join(dir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nhd/index.m3u8\n')
  writeFileSync(join(dir, 'hd', 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg-0.ts\n#EXTINF:1,\nseg-1.ts\n#EXT-X-ENDLIST\n')
  writeFileSync(join(dir, 'hd', 'seg-0.ts'), 'a')
  writeFileSync(join(dir, 'hd', 'seg-1.ts'), 'b')
  return dir
}

t.test('help: the command is listed, its usage says what it writes', async (t) => {
  const [overview, help] = await Promise.all([run(['--help']), run(['manifests', '--help'])])
  t.match(overview.stdout, /\n {2}manifests +template HLS playlists and DASH MPDs for static signed URLs/)
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: cloudfront-cookies manifests template <in-dir> <out-dir> --key-pair-id <id>/)
  t.match(help.stdout, /\.cloudfront-manifests\.json/)
})

t.test('templates a folder, prints what changed; a second run changes nothing; another key re-templates', async (t) => {
  const root = tempDir(t, 'cf-cli-manifests-')
  const dir = course(root)
  const out = join(root, 'out')
  const first = await run(['manifests', 'template', dir, out, '--key-pair-id', K, '--hash-algorithm', 'SHA256'])
  t.equal(first.code, 0, first.stderr)
  t.equal(first.stdout, `templated    hd/index.m3u8  2 URIs
templated    master.m3u8    1 URI
2 manifests for key ${K} (SHA256): 2 templated, 0 templated again for this key, 0 unchanged; 2 other files copied
sidecar: ${join(out, '.cloudfront-manifests.json')}
`)
  t.match(readFileSync(join(out, 'hd', 'index.m3u8'), 'utf8'), `\nseg-1.ts?Policy={$Policy}&Signature={$Signature}&Key-Pair-Id=${K}&Hash-Algorithm=SHA256\n`)
  t.equal(readFileSync(join(out, 'hd', 'seg-1.ts'), 'utf8'), 'b')
  const written = readFileSync(join(out, 'master.m3u8'), 'utf8')

  const again = await run(['manifests', 'template', out, out, '--key-pair-id', K, '--hash-algorithm', 'SHA256'])
  t.equal(again.code, 0)
  t.match(again.stdout, /^unchanged {4}hd\/index\.m3u8 {2}2 URIs\nunchanged {4}master\.m3u8 {4}1 URI\n2 manifests .*: 0 templated, 0 templated again for this key, 2 unchanged; 0 other files copied\n/)
  t.equal(readFileSync(join(out, 'master.m3u8'), 'utf8'), written, 'the same bytes')

  const rotated = await run(['manifests', 'template', out, out, '--key-pair-id', 'K3NEWKEY000000'])
  t.equal(rotated.code, 0)
  t.match(rotated.stdout, /^retemplated {2}hd\/index\.m3u8/)
  t.match(rotated.stdout, /2 templated again for this key/)
  t.equal(JSON.parse(readFileSync(join(out, '.cloudfront-manifests.json'), 'utf8')).keyPairId, 'K3NEWKEY000000')
})

t.test('a manifest it cannot template: exit 1, the file, the line and why; nothing written', async (t) => {
  const root = tempDir(t, 'cf-cli-manifests-')
  const dir = course(root)
  writeFileSync(join(dir, 'hd', 'index.m3u8'), '#EXTM3U\n#EXTINF:1,\nhttps://tracker.example.net/seg-0.ts\n')
  const r = await run(['manifests', 'template', dir, join(root, 'out'), '--key-pair-id', K])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^cloudfront-cookies manifests: Cannot template manifest: hd\/index\.m3u8: line 3: "https:\/\/tracker\.example\.net\/seg-0\.ts" is an absolute URL/)
  t.match(r.stderr, /\(FST_ERR_CF_MANIFEST_TEMPLATE\)\n$/)
  t.equal(existsSync(join(root, 'out')), false)

  writeFileSync(join(dir, 'hd', 'index.m3u8'), '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="Key-Pair-Id"\n#EXTINF:1,\nseg-0.ts\n')
  const hyphen = await run(['manifests', 'template', dir, join(root, 'out'), '--key-pair-id', K])
  t.equal(hyphen.code, 1)
  t.match(hyphen.stderr, /QUERYPARAM="Key-Pair-Id": Shaka Player substitutes only names of letters, digits and "_"/)
})
