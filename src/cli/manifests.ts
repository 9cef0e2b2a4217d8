import { parse, required, str, usage, type Command } from './args.js'

const HELP = `Usage: cloudfront-cookies manifests template <in-dir> <out-dir> --key-pair-id <id> [options]

Templates every HLS playlist (.m3u8) and DASH MPD (.mpd) under <in-dir> for static signed URLs, into
<out-dir> (or in place when <out-dir> is <in-dir>), copying every other file: the CDN then serves
them as stored, and a player given one signed manifest URL carries its query to every request.
HLS: EXT-X-DEFINE:QUERYPARAM for Policy and Signature (EXT-X-VERSION 11), every URI given
"?Policy={$Policy}&Signature={$Signature}&Key-Pair-Id=<id>". DASH: the Annex I URL parameters
property. Writes <out-dir>/.cloudfront-manifests.json, which the app reads to refuse URLs signed
with another key. Templating a templated folder changes nothing (or only the key pair ID).

Options:
  --key-pair-id <id>         the CloudFront key ID the app signs with (written in every URI)
  --hash-algorithm SHA1|SHA256  the app's hash algorithm (default SHA1)
  --base-url <url>           where <out-dir> is published, https://media.example.com/courses/42/:
                             allows absolute URIs and paths from the root that point under it
  -h, --help                 show this help

Exit status: 0 templated, 1 a manifest refused (nothing written), 2 bad arguments.`

export const manifests: Command = {
  summary: 'template HLS playlists and DASH MPDs for static signed URLs (cookie-less, no app in the media path)',
  help: HELP,
  flags: {
    keyPairId: '--key-pair-id',
    hashAlgorithm: '--hash-algorithm',
    baseUrl: '--base-url',
    inDir: '<in-dir>',
    outDir: '<out-dir>'
  },
  async run (args, io) {
    const p = parse(args, {
      'key-pair-id': { type: 'string' },
      'hash-algorithm': { type: 'string' },
      'base-url': { type: 'string' }
    }, 3)
    const [action, inDir, outDir] = p.positionals
    if (action !== 'template') {
      usage(action === undefined
        ? 'give an action: manifests template <in-dir> <out-dir>'
        : `unknown action "${action}": the action is template`)
    }
    if (inDir === undefined || outDir === undefined) {
      usage('give the folder to template and the folder to write: manifests template <in-dir> <out-dir>')
    }
    const keyPairId = required(p, 'key-pair-id')
    const hashAlgorithm = str(p, 'hash-algorithm')
    if (hashAlgorithm !== undefined && hashAlgorithm !== 'SHA1' && hashAlgorithm !== 'SHA256') {
      usage(`--hash-algorithm ${hashAlgorithm}: expected SHA1 or SHA256`)
    }
    const baseUrl = str(p, 'base-url')
    const { templateManifests } = await import('../core/manifests/folder.js')
    const report = await templateManifests(inDir, outDir, {
      keyPairId,
      ...(hashAlgorithm !== undefined ? { hashAlgorithm } : {}),
      ...(baseUrl !== undefined ? { baseUrl } : {})
    })
    const count = (status: string): number => report.manifests.filter((m) => m.status === status).length
    const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`
    const width = Math.max(0, ...report.manifests.map((m) => m.path.length))
    for (const m of report.manifests) {
      const signed = m.format === 'hls' ? plural(m.uris, 'URI') : 'Annex I URL parameters'
      io.out(`${m.status.padEnd(11)}  ${m.path.padEnd(width)}  ${signed}`)
    }
    io.out(`${plural(report.manifests.length, 'manifest')} for key ${report.keyPairId} (${report.hashAlgorithm}): ` +
      `${count('templated')} templated, ${count('retemplated')} templated again for this key, ` +
      `${count('unchanged')} unchanged; ${plural(report.copied, 'other file')} copied`)
    io.out(`sidecar: ${report.sidecar}`)
    if (report.manifests.length === 0) io.err('warning: no .m3u8, .m3u or .mpd file in the folder')
    return 0
  }
}
