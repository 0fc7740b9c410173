#!/usr/bin/env bash
# Installs the peers the gateway benchmark compares Switchyard with, pinned, into a cache
# directory outside the repository (nothing of theirs is committed):
#
#   LiteLLM proxy   $CACHE/litellm-venv   (pip, from PyPI)
#   Portkey gateway $CACHE/portkey        (npm, from the npm registry; runs under Node >= 20)
#
# and probes whether LiteLLM's database mode (Prisma) can be set up offline; the outcome is
# written to $CACHE/litellm-db.status ("ok" or "unavailable: <reason>") and read by
# bench/gateway.py. Idempotent: re-running skips what is already installed.
#
#   bench/install_peers.sh            # CACHE defaults to ~/.cache/switchyard-bench
#   SWITCHYARD_BENCH_CACHE=/path bench/install_peers.sh
set -euo pipefail

LITELLM_VERSION=1.106.2      # the version issue 2's figures were taken with (1.107.0 was a compromised release)
PRISMA_PY_VERSION=0.15.0     # prisma-client-py, LiteLLM's database client; drives Prisma CLI 5.17.0
PROMETHEUS_CLIENT_VERSION=0.26.0  # LiteLLM's 'prometheus' callback (/metrics) imports it; not in [proxy]
PORTKEY_VERSION=1.15.2       # @portkey-ai/gateway
# Its dependency range lets npm pick @hono/node-server 1.19.x, with which every streamed answer
# fails ("TypeError: immutable" in its response service; Portkey-AI/gateway issues 1389, 1550);
# 1.13.8 streams. Pinned through npm "overrides".
HONO_NODE_SERVER_VERSION=1.13.8
LITELLM_DB=litellm_bench     # PostgreSQL database for LiteLLM's DB mode, when Prisma can be set up

CACHE="${SWITCHYARD_BENCH_CACHE:-$HOME/.cache/switchyard-bench}"
export LITELLM_LOCAL_MODEL_COST_MAP=True  # importing litellm would fetch its price map from GitHub
mkdir -p "$CACHE"
log() { printf '%s\n' "$*" >&2; }

# -- LiteLLM ------------------------------------------------------------------------------
if ! "$CACHE/litellm-venv/bin/python" -c "import litellm, sys; from importlib.metadata import version as v; sys.exit(v('litellm') != '$LITELLM_VERSION' or v('prisma') != '$PRISMA_PY_VERSION' or v('prometheus_client') != '$PROMETHEUS_CLIENT_VERSION')" 2>/dev/null; then
    log "installing litellm[proxy]==$LITELLM_VERSION, prisma==$PRISMA_PY_VERSION into $CACHE/litellm-venv"
    python3 -m venv "$CACHE/litellm-venv"
    "$CACHE/litellm-venv/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" "prisma==$PRISMA_PY_VERSION" \
        "prometheus_client==$PROMETHEUS_CLIENT_VERSION" 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
fi
"$CACHE/litellm-venv/bin/litellm" --version >/dev/null 2>&1 || { log "litellm did not install"; exit 1; }

# -- Portkey ------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    log "Portkey needs Node >= 20 (found: $(node --version 2>/dev/null || echo none)); apt-get install nodejs npm"
    exit 1
fi
PORTKEY_DIR="$CACHE/portkey"
installed() { node -p "require('$PORTKEY_DIR/node_modules/$1/package.json').version" 2>/dev/null; }
if [ "$(installed @portkey-ai/gateway)" != "$PORTKEY_VERSION" ] \
        || [ "$(installed @hono/node-server)" != "$HONO_NODE_SERVER_VERSION" ]; then
    log "installing @portkey-ai/gateway@$PORTKEY_VERSION into $PORTKEY_DIR"
    mkdir -p "$PORTKEY_DIR"
    cat > "$PORTKEY_DIR/package.json" <<EOF
{"name": "switchyard-bench-portkey", "private": true,
 "dependencies": {"@portkey-ai/gateway": "$PORTKEY_VERSION"},
 "overrides": {"@hono/node-server": "$HONO_NODE_SERVER_VERSION"}}
EOF
    # --ignore-scripts: its only install script is patch-package, for its own development tree
    npm install --prefix "$PORTKEY_DIR" --no-audit --no-fund --ignore-scripts >&2
fi
test -f "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js"

# -- LiteLLM's database mode: can Prisma be set up offline? -------------------------------
# `prisma generate` npm-installs the Prisma CLI (that part works: the npm registry is
# reachable), then downloads the query and schema engines, which are native binaries
# published only on Prisma's own CDN (the npm package @prisma/engines holds no binaries,
# its postinstall downloads them too). Engines already present (an image built online, or
# PRISMA_QUERY_ENGINE_BINARY / PRISMA_SCHEMA_ENGINE_BINARY pointing at copies) let it pass.
STATUS="$CACHE/litellm-db.status"
SCHEMA=$("$CACHE/litellm-venv/bin/python" -c "import litellm, os; print(os.path.join(os.path.dirname(litellm.__file__), 'proxy', 'schema.prisma'))")
log "probing LiteLLM's database mode: prisma generate (log: $CACHE/prisma-generate.log)"
if PRISMA_HOME_DIR="$CACHE/prisma-home" PATH="$CACHE/litellm-venv/bin:$PATH" \
        timeout 600 "$CACHE/litellm-venv/bin/prisma" generate --schema "$SCHEMA" >"$CACHE/prisma-generate.log" 2>&1; then
    createdb -h 127.0.0.1 -U postgres "$LITELLM_DB" 2>/dev/null || true
    echo "ok postgresql://postgres@127.0.0.1:5432/$LITELLM_DB" > "$STATUS"
else
    reason=$(grep -m1 -E "Error|error" "$CACHE/prisma-generate.log" | cut -c1-300)
    echo "unavailable: prisma generate failed: ${reason:-see $CACHE/prisma-generate.log}" > "$STATUS"
fi
log "LiteLLM database mode: $(cat "$STATUS")"
log "peers ready in $CACHE"
