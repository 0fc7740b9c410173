#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver, which the console's browser tests
# (tests/console) drive through Selenium. Idempotent: does nothing when both are present.
# Needs root (as in CI) the first time.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: chromium and chromium-driver are missing; run as root: apt-get install chromium chromium-driver" >&2
  exit 1
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium chromium-driver
chromium --version
