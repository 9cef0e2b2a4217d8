// Real MPEG-DASH streams made by Debian's ffmpeg, one of each shape its muxers write, laid out as a CDN
// would hold them: <root>/courses/<id>/dash/<shape>/... Five seconds, 160x90, 1-second segments.
// Made once per recipe and kept in the temp folder: the test files of one run share them (about a
// second of ffmpeg per shape on an idle core, several on a busy one).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FFMPEG } from './media.js'

/** Seconds of media in each stream. */
export const DASH_SECONDS = 5

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10']
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050']
// Baseline: Debian's Chromium decodes H.264 with OpenH264, which does not do Main or High.
const H264 = ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0']
const AAC = ['-c:a', 'aac', '-b:a', '32k', '-ac', '1']
const DASH = ['-f', 'dash', '-seg_duration', '1']
const SECONDS = ['-t', String(DASH_SECONDS)]

export type DashShape = 'number' | 'time' | 'list' | 'single' | 'webm'

/** What each shape is, in the words of the MPD it has. */
export const DASH_SHAPES: Record<DashShape, string> = {
  number: 'SegmentTemplate with $Number$',
  time: 'SegmentTemplate with SegmentTimeline and $Time$',
  list: 'SegmentList (one SegmentURL per segment)',
  single: 'single file per Representation (BaseURL, SegmentList of byte ranges)',
  webm: 'WebM with SegmentBase (webm_dash_manifest, upper-case namespace)'
}

// Each shape: the ffmpeg runs that make it in its folder, manifest.mpd last.
const RECIPES: Record<DashShape, string[][]> = {
  number: [[...VIDEO, ...AUDIO, ...SECONDS, ...H264, ...AAC, ...DASH, '-use_timeline', '0', 'manifest.mpd']],
  // Without make_zero the first audio segment is named after a negative time, and no player finds it.
  time: [[...VIDEO, ...AUDIO, ...SECONDS, ...H264, ...AAC, ...DASH, '-use_timeline', '1', '-avoid_negative_ts', 'make_zero',
    '-media_seg_name', 'chunk-$RepresentationID$-$Time$.m4s', 'manifest.mpd']],
  list: [[...VIDEO, ...AUDIO, ...SECONDS, ...H264, ...AAC, ...DASH, '-use_template', '0', 'manifest.mpd']],
  single: [[...VIDEO, ...AUDIO, ...SECONDS, ...H264, ...AAC, ...DASH, '-single_file', '1', 'manifest.mpd']],
  webm: [
    [...VIDEO, ...SECONDS, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '100k', '-g', '10', '-keyint_min', '10',
      '-an', '-dash', '1', '-f', 'webm', 'video.webm'],
    [...AUDIO, ...SECONDS, '-c:a', 'libopus', '-b:a', '32k', '-vn', '-dash', '1', '-f', 'webm', 'audio.webm'],
    ['-f', 'webm_dash_manifest', '-i', 'video.webm', '-f', 'webm_dash_manifest', '-i', 'audio.webm', '-c', 'copy', '-map', '0', '-map', '1',
      '-f', 'webm_dash_manifest', '-adaptation_sets', 'id=0,streams=0 id=1,streams=1', 'manifest.mpd']
  ]
}

function ffmpeg (cwd: string, args: string[]): void {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

function ffmpegVersion (): string {
  return execFileSync(FFMPEG, ['-version'], { encoding: 'utf8' }).split('\n')[0] ?? ''
}

export interface DashCourse {
  /** The edge's root folder: it holds `courses/<id>/dash/<shape>/`. */
  root: string
  /** Each shape's MPD, as a CDN path: `/courses/42/dash/number/manifest.mpd`. */
  mpds: Record<DashShape, string>
}

/**
 * The five DASH shapes of course `courseId`, made under the temp folder the first time a run asks for
 * them (named after ffmpeg's version and the recipes, so a changed recipe makes them anew), and shared
 * read-only afterwards. Made in a folder of its own, then renamed into place: a test file never sees
 * half a course, whichever file makes it first.
 */
export function dashCourse (courseId = '42'): DashCourse {
  const key = createHash('sha256').update(JSON.stringify([ffmpegVersion(), RECIPES, courseId])).digest('hex').slice(0, 16)
  const root = join(tmpdir(), `cf-dash-media-${key}`)
  const mpds = Object.fromEntries(Object.keys(RECIPES).map((shape) => [shape, `/courses/${courseId}/dash/${shape}/manifest.mpd`])) as Record<DashShape, string>
  if (existsSync(join(root, 'complete'))) return { root, mpds }
  const building = mkdtempSync(join(tmpdir(), 'cf-dash-media-making-'))
  try {
    for (const [shape, runs] of Object.entries(RECIPES)) {
      const dir = join(building, 'courses', courseId, 'dash', shape)
      mkdirSync(dir, { recursive: true })
      for (const args of runs) ffmpeg(dir, args)
    }
    writeFileSync(join(building, 'complete'), key)
    try {
      renameSync(building, root)
    } catch (err) {
      // Another test file made it meanwhile: theirs is as good.
      if (!existsSync(join(root, 'complete'))) throw err
    }
  } finally {
    rmSync(building, { recursive: true, force: true })
  }
  return { root, mpds }
}

/** The text of a shape's MPD as ffmpeg wrote it. */
export function sourceMpd (course: DashCourse, shape: DashShape): string {
  return readFileSync(join(course.root, course.mpds[shape]), 'utf8')
}
