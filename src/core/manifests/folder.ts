import { copyFile, lstat, mkdir, readdir, readFile, writeFile, constants } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_MANIFEST_TEMPLATE } from '../errors.js'
import { templateHlsWith } from './hls.js'
import { templateMpdWith } from './dash.js'
import { resolveSettings, type TemplateSettings } from './reference.js'
import { SIDECAR, sidecarText } from './sidecar.js'

// A folder as it will be published: every manifest templated, every other file copied as it is,
// and the sidecar that tells the app which key the templates name.

/** What templating one manifest did. */
export interface TemplatedManifest {
  /** Its path in the folder, `/`-separated. */
  path: string
  format: 'hls' | 'dash'
  /** URIs given the signed query (HLS); 0 for an MPD, whose query the player appends. */
  uris: number
  /**
   * What changed: `templated` (from a source), `retemplated` (a template, for another key), `unchanged`
   * (a template already, or nothing to sign).
   */
  status: 'templated' | 'retemplated' | 'unchanged'
}

/** What `templateManifests` did. */
export interface TemplateReport {
  keyPairId: string
  hashAlgorithm: 'SHA1' | 'SHA256'
  manifests: TemplatedManifest[]
  /** Other files copied as they are (0 when templating in place). */
  copied: number
  /** Where the sidecar was written. */
  sidecar: string
}

/** Templates one manifest's text; `format` by its name. */
export type ManifestTemplater = (text: string, path: string) => {
  text: string
  uris: number
  changed: boolean
  retemplated?: boolean
}

const HLS_RE = /\.m3u8?$/i
const MPD_RE = /\.mpd$/i

/**
 * Templates every manifest under `inDir` into `outDir` (which may be `inDir` itself, templated in
 * place) for static signed URLs: HLS playlists (`.m3u8`, `.m3u`) with EXT-X-DEFINE:QUERYPARAM, DASH
 * MPDs (`.mpd`) with Annex I URL parameters; copies every other file; writes the sidecar
 * (`.cloudfront-manifests.json`) naming the key pair ID. Refuses (FST_ERR_CF_MANIFEST_TEMPLATE) a
 * symbolic link, an output folder inside the input, and any manifest it cannot template safely,
 * before writing anything.
 */
export async function templateManifests (
  inDir: string,
  outDir: string,
  options: TemplateSettings
): Promise<TemplateReport> {
  const settings = resolveSettings(options)
  if (typeof inDir !== 'string' || inDir === '') {
    throw new FST_ERR_CF_INVALID_OPTION('inDir', 'expected the folder of manifests and media')
  }
  if (typeof outDir !== 'string' || outDir === '') {
    throw new FST_ERR_CF_INVALID_OPTION('outDir', 'expected the folder to write the templated copy to')
  }
  const from = resolve(inDir)
  const to = resolve(outDir)
  const inPlace = from === to
  const elsewhere = 'give a folder elsewhere, or the input folder itself to template in place'
  if (!inPlace && (to + sep).startsWith(from + sep)) {
    throw new FST_ERR_CF_INVALID_OPTION('outDir', `${to} is inside ${from}: ${elsewhere}`)
  }
  if (!inPlace && (from + sep).startsWith(to + sep)) {
    throw new FST_ERR_CF_INVALID_OPTION('outDir', `${to} holds ${from}: ${elsewhere}`)
  }
  try {
    if (!(await lstat(from)).isDirectory()) throw new Error('not a directory')
  } catch {
    throw new FST_ERR_CF_INVALID_OPTION('inDir', `${from} is not a folder`)
  }
  const hls = (text: string, path: string): ReturnType<ManifestTemplater> => templateHlsWith(text, path, settings)
  const mpd = (text: string, path: string): ReturnType<ManifestTemplater> => templateMpdWith(text, path, settings)

  const files = await walk(from, '')
  // Every manifest is templated in memory first: a refusal writes nothing.
  const outputs: Array<{ path: string, text: string | null }> = []
  const manifests: TemplatedManifest[] = []
  for (const path of files) {
    const isHls = HLS_RE.test(path)
    if (!isHls && !MPD_RE.test(path)) {
      outputs.push({ path, text: null })
      continue
    }
    const source = await readFile(join(from, ...path.split('/')), 'utf8')
    let result: ReturnType<ManifestTemplater>
    try {
      if (isHls) {
        result = hls(source, path)
      } else {
        result = mpd(source, path)
      }
    } catch (err) {
      const e = err as Error & { code?: string }
      // After the error's own prefix ("Cannot template manifest: "): which file, then why.
      e.message = e.message.replace(/^([^:]*: )?/, (prefix) => `${prefix}${path}: `)
      throw e
    }
    const status = !result.changed ? 'unchanged' : result.retemplated === true ? 'retemplated' : 'templated'
    manifests.push({ path, format: isHls ? 'hls' : 'dash', uris: result.uris, status })
    outputs.push({ path, text: result.changed || !inPlace ? result.text : null })
  }
  let copied = 0
  for (const { path, text } of outputs) {
    const target = join(to, ...path.split('/'))
    await mkdir(join(target, '..'), { recursive: true })
    if (text !== null) {
      await writeFile(target, text)
    } else if (!inPlace) {
      await copyFile(join(from, ...path.split('/')), target, constants.COPYFILE_FICLONE)
      copied++
    }
  }
  await mkdir(to, { recursive: true })
  const sidecar = join(to, SIDECAR)
  await writeFile(sidecar, sidecarText(settings, manifests.map((m) => m.path)))
  return { keyPairId: settings.keyPairId, hashAlgorithm: settings.hashAlgorithm, manifests, copied, sidecar }
}

/** The files under `dir`, `/`-separated, sorted; a symbolic link is refused (it may point out of the folder). */
async function walk (root: string, under: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(join(root, ...under.split('/').filter(Boolean)), { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const path = under === '' ? entry.name : `${under}/${entry.name}`
    if (entry.isSymbolicLink()) {
      throw new FST_ERR_CF_MANIFEST_TEMPLATE(`${path} is a symbolic link: ` +
        'the folder must hold what is published, nothing that points out of it')
    }
    if (entry.isDirectory()) out.push(...await walk(root, path))
    else if (entry.isFile() && path !== SIDECAR) out.push(path)
  }
  return out
}
