#!/usr/bin/env bash
# Installs the JavaScript client libraries the client tests drive (the Vercel AI SDK with its
# OpenAI and Anthropic providers) from npm into a cache directory outside the repository.
# Idempotent: does nothing when the pinned versions are present.
#   scripts/install-clients-js.sh [dir]   (default: $SWITCHYARD_CLIENTS_JS_DIR or ~/.cache/switchyard-clients-js)
# Afterwards: <dir>/node_modules/{ai,@ai-sdk/openai,@ai-sdk/anthropic,zod}.
set -euo pipefail
dir="${1:-${SWITCHYARD_CLIENTS_JS_DIR:-$HOME/.cache/switchyard-clients-js}}"
packages=(
  "ai@${AI_SDK_VERSION:-7.0.173}"
  "@ai-sdk/openai@${AI_SDK_OPENAI_VERSION:-4.0.118}"
  "@ai-sdk/anthropic@${AI_SDK_ANTHROPIC_VERSION:-4.0.105}"
  "zod@${ZOD_VERSION:-4.1.12}"
)

if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm
fi
command -v npm >/dev/null 2>&1 || { echo "install-clients-js: npm is required (Node.js 18+)" >&2; exit 1; }
mkdir -p "$dir"
stamp="$dir/.installed-$(printf '%s-' "${packages[@]}" | tr '/@' '__')"
if [ -f "$stamp" ] && [ -d "$dir/node_modules/ai" ]; then
  exit 0
fi
[ -f "$dir/package.json" ] || echo '{"private": true, "type": "module"}' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "${packages[@]}"
(cd "$dir" && node --input-type=module -e "import 'ai'; import '@ai-sdk/openai'; import '@ai-sdk/anthropic'; import 'zod'")
rm -f "$dir"/.installed-*
touch "$stamp"
