#!/usr/bin/env bash
# Installs the coding agents the agent tests drive (Claude Code, Codex CLI) from npm into a cache
# directory outside the repository. Idempotent: does nothing when the pinned versions are present.
#   scripts/install-agents.sh [dir]     (default: $SWITCHYARD_AGENTS_DIR or ~/.cache/switchyard-agents)
# Afterwards: <dir>/node_modules/.bin/claude and <dir>/node_modules/.bin/codex.
set -euo pipefail
dir="${1:-${SWITCHYARD_AGENTS_DIR:-$HOME/.cache/switchyard-agents}}"
claude_version="${CLAUDE_CODE_VERSION:-2.1.330}"
codex_version="${CODEX_VERSION:-0.169.0}"

if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm
fi
command -v npm >/dev/null 2>&1 || { echo "install-agents: npm is required (Node.js 18+)" >&2; exit 1; }
mkdir -p "$dir"
stamp="$dir/.installed-claude-${claude_version}-codex-${codex_version}"
if [ -f "$stamp" ] && [ -x "$dir/node_modules/.bin/claude" ] && [ -x "$dir/node_modules/.bin/codex" ]; then
  exit 0
fi
[ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
  "@anthropic-ai/claude-code@${claude_version}" "@openai/codex@${codex_version}"
"$dir/node_modules/.bin/claude" --version >/dev/null
"$dir/node_modules/.bin/codex" --version >/dev/null
rm -f "$dir"/.installed-*
touch "$stamp"
