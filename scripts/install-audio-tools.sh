#!/usr/bin/env bash
# Debian's FFmpeg (ffmpeg, ffprobe), which the audio tests use to decode Switchyard's speech
# independently of the PyAV that encodes it. Switchyard itself needs no system FFmpeg.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-audio-tools: please install ffmpeg (apt-get install ffmpeg)" >&2
  exit 1
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends ffmpeg >/dev/null
echo "install-audio-tools: $(ffmpeg -version | head -1)"
