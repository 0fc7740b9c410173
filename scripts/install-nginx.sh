#!/usr/bin/env bash
# Debian's nginx, which deploy/run.sh puts in front of the Switchyard processes and
# tests/deploy runs. Only the binary is used: deploy/run.sh runs it under its own prefix.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-nginx: please install nginx (apt-get install nginx-light)" >&2
  exit 1
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nginx-light >/dev/null
# Debian starts the packaged service where an init system runs; deploy/run.sh needs none of it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx || true
fi
echo "install-nginx: $(/usr/sbin/nginx -v 2>&1)"
