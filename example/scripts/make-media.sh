#!/usr/bin/env bash
# Makes the example's streams: one short, small stream per course, with a visible test pattern,
# the course title and a tone, so it is plain which course is playing; in HLS (index.m3u8) and,
# the same pictures and sound, in MPEG-DASH (dash/manifest.mpd: fMP4 segments, SegmentTemplate).
#
#   sudo apt-get install -y ffmpeg fonts-dejavu-core   # Debian's ffmpeg has libx264
#   example/scripts/make-media.sh
#
# H.264 and AAC in MPEG-TS segments: the usual HLS encoding, which hls.js plays through Media
# Source Extensions (checked in Debian's Chromium by test/example/browser.test.ts). Baseline
# profile: Debian's Chromium decodes H.264 with OpenH264, which does not do Main or High.
# The output is bit-exact for a given ffmpeg version, so regenerating does not churn git.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_LONG=16   # eight 2-second segments per course
SEGMENT=2
FPS=15
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

command -v ffmpeg >/dev/null || { echo "ffmpeg is missing: sudo apt-get install -y ffmpeg" >&2; exit 1; }

# make <courseId> <title> <pattern> <tone Hz>
make () {
  local id=$1 title=$2 pattern=$3 tone=$4
  local out=media/courses/$id
  rm -rf "$out"
  mkdir -p "$out"
  local text=""
  if [ -f "$FONT" ]; then
    text=",drawtext=fontfile=$FONT:text='$title':fontsize=20:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6:x=w-text_w-12:y=12"
    text="$text,drawtext=fontfile=$FONT:text='%{pts\\:hms}':fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4:x=(w-text_w)/2:y=h-th-14"
  fi
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$pattern=size=320x180:rate=$FPS" \
    -f lavfi -i "sine=frequency=$tone:sample_rate=44100" \
    -t "$SECONDS_LONG" \
    -vf "format=yuv420p$text" \
    -c:v libx264 -profile:v baseline -level 3.0 -preset veryfast -crf 30 -maxrate 160k -bufsize 320k \
    -g $((FPS * SEGMENT)) -keyint_min $((FPS * SEGMENT)) -sc_threshold 0 \
    -c:a aac -b:a 48k -ac 1 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -f hls -hls_time "$SEGMENT" -hls_playlist_type vod -hls_segment_filename "$out/segment-%02d.ts" \
    "$out/index.m3u8"
  mkdir -p "$out/dash"
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$pattern=size=320x180:rate=$FPS" \
    -f lavfi -i "sine=frequency=$tone:sample_rate=44100" \
    -t "$SECONDS_LONG" \
    -vf "format=yuv420p$text" \
    -c:v libx264 -profile:v baseline -level 3.0 -preset veryfast -crf 30 -maxrate 160k -bufsize 320k \
    -g $((FPS * SEGMENT)) -keyint_min $((FPS * SEGMENT)) -sc_threshold 0 \
    -c:a aac -b:a 48k -ac 1 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -f dash -seg_duration "$SEGMENT" -use_timeline 0 "$out/dash/manifest.mpd"
  echo "$out: $(ls "$out" | wc -l) files, $(du -sk "$out" | cut -f1) KB"
}

make hls-basics 'HLS Basics' testsrc2 440
make edge-caching 'Caching at the Edge' smptehdbars 660
