#!/usr/bin/env bash
# The code interpreter's sandbox (docs/sandbox.md): Debian's bubblewrap, and the Python the
# sandbox runs, which is Debian's python3 with numpy, pandas and matplotlib from Debian too
# (kept apart from the server's virtualenv, which the sandbox never sees). Quiet when installed.
set -euo pipefail
PACKAGES=(bubblewrap python3 python3-numpy python3-pandas python3-matplotlib)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-sandbox: please install ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-sandbox: installed ${missing[*]}"
