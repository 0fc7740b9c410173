#!/usr/bin/env bash
# The code interpreter's sandbox (docs/sandbox.md): Debian's bubblewrap, and the Python the
# sandbox runs, which is Debian's python3 with numpy, pandas and matplotlib from Debian too
# (kept apart from the server's virtualenv, which the sandbox never sees). Quiet when installed.
# Not root: sudo when it needs no password. --optional (make serve): without them the server
# still serves everything but the code interpreter, so say so and go on.
set -euo pipefail
optional=false
[ "${1:-}" = "--optional" ] && optional=true
PACKAGES=(bubblewrap python3 python3-numpy python3-pandas python3-matplotlib)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  elif $optional; then
    echo "install-sandbox: the code interpreter stays off until ${missing[*]} are installed" \
         "(sudo apt-get install ${missing[*]})" >&2
    exit 0
  else
    echo "install-sandbox: please install ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
"${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-sandbox: installed ${missing[*]}"
