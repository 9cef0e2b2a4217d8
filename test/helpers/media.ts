// Real HLS streams made at test time by Debian's ffmpeg, laid out as a CDN would hold them:
// <root>/courses/<id>/{ts,fmp4,aes,range}/... Short and tiny (160x90, 10 fps, 1-second segments),
// so that making them and decoding them takes a fraction of a second each.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const FFMPEG = '/usr/bin/ffmpeg'

/** Seconds of media in each stream, in 1-second segments. */
export const STREAM_SECONDS = 4

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10']
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050']
const H264 = ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0']
const AAC = ['-c:a', 'aac', '-b:a', '32k', '-ac', '1']
const HLS = ['-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod']

function ffmpeg (cwd: string, args: string[]): void {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

export interface Streams {
  /** Master playlist with two variants (`high/`, `low/`), TS segments. */
  tsMaster: string
  /** fMP4 segments with EXT-X-MAP. */
  fmp4: string
  /** TS segments encrypted with AES-128, EXT-X-KEY pointing at `key.bin`. */
  aes: string
  /** fMP4 in one file: EXT-X-MAP and segments as byte ranges. */
  range: string
}

/** Makes the four streams of one course under `root`; returns their CDN paths. */
export function makeCourse (root: string, courseId: string): Streams {
  const base = `/courses/${courseId}`
  const dir = join(root, 'courses', courseId)
  for (const d of ['ts/high', 'ts/low', 'fmp4', 'aes', 'range']) mkdirSync(join(dir, d), { recursive: true })
  const t = ['-t', String(STREAM_SECONDS)]
  ffmpeg(dir, [...VIDEO, ...AUDIO, ...t,
    '-filter_complex', '[0:v]split=2[v1][v2];[v2]scale=96:54[v2o]', '-map', '[v1]', '-map', '[v2o]', '-map', '1:a', '-map', '1:a',
    ...H264, ...AAC, ...HLS, '-var_stream_map', 'v:0,a:0,name:high v:1,a:1,name:low', '-master_pl_name', 'master.m3u8',
    '-hls_segment_filename', 'ts/%v/seg-%03d.ts', 'ts/%v/index.m3u8'])
  ffmpeg(dir, [...VIDEO, ...AUDIO, ...t, ...H264, ...AAC, ...HLS, '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4',
    '-hls_segment_filename', 'fmp4/seg-%03d.m4s', 'fmp4/index.m3u8'])
  writeFileSync(join(dir, 'aes', 'key.bin'), randomBytes(16))
  writeFileSync(join(dir, 'aes', 'keyinfo'), `key.bin\n${join(dir, 'aes', 'key.bin')}\n`)
  ffmpeg(dir, [...VIDEO, ...AUDIO, ...t, ...H264, ...AAC, ...HLS, '-hls_key_info_file', 'aes/keyinfo',
    '-hls_segment_filename', 'aes/seg-%03d.ts', 'aes/index.m3u8'])
  ffmpeg(dir, [...VIDEO, ...t, ...H264, ...HLS, '-hls_segment_type', 'fmp4', '-hls_flags', 'single_file', 'range/index.m3u8'])
  return {
    tsMaster: `${base}/ts/master.m3u8`,
    fmp4: `${base}/fmp4/index.m3u8`,
    aes: `${base}/aes/index.m3u8`,
    range: `${base}/range/index.m3u8`
  }
}

/** The duration ffprobe reads from an input (a URL or a file), in seconds. */
export function probeDuration (input: string): number {
  const out = execFileSync('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', input], { encoding: 'utf8' })
  return Number(out.trim())
}
