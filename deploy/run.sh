#!/usr/bin/env bash
# Runs Switchyard as a small deployment: several `switchyard serve` processes sharing one
# config (PostgreSQL, Redis, files_dir, master and secret keys), with nginx in front.
# Starts again a process that dies. Stops them all on SIGTERM or SIGINT: the Switchyard processes drain first (in-flight
# requests and streams finish, up to drain_seconds), then nginx stops gracefully.
#
#   SWITCHYARD_CONFIG=/etc/switchyard.yaml deploy/run.sh
#
# Environment (defaults in brackets):
#   SWITCHYARD_CONFIG   the YAML config every process reads (required); secrets may come
#                       from SWITCHYARD_MASTER_KEY, SWITCHYARD_SECRET_KEY and the like
#   DEPLOY_LISTEN       where nginx listens [127.0.0.1:8080]
#   DEPLOY_PORTS        the processes' ports on 127.0.0.1 ["8001 8002 8003"]
#   DEPLOY_RUN_DIR      logs, pid files, each process's data_dir, nginx's files [a new temp dir]
#   DEPLOY_READY_SECONDS how long to wait for every process's /ready [300]
#   SWITCHYARD_BIN      the switchyard command [switchyard]
#   NGINX_BIN           nginx [nginx, else /usr/sbin/nginx]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
config=${SWITCHYARD_CONFIG:?set SWITCHYARD_CONFIG to the config file every process reads}
listen=${DEPLOY_LISTEN:-127.0.0.1:8080}
ports=${DEPLOY_PORTS:-8001 8002 8003}
run=${DEPLOY_RUN_DIR:-$(mktemp -d -t switchyard-deploy.XXXXXX)}
ready_seconds=${DEPLOY_READY_SECONDS:-300}
switchyard=${SWITCHYARD_BIN:-switchyard}
nginx=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

mkdir -p "$run/nginx-tmp" "$run/pids" "$run/logs"
rm -f "$run/ready"
declare -A serve_pids=()
nginx_pid=

log() { echo "deploy: $*" >&2; }

stop() {
  trap - TERM INT
  log "stopping: draining the Switchyard processes"
  for port in "${!serve_pids[@]}"; do
    kill -TERM "${serve_pids[$port]}" 2>/dev/null || true
  done
  for port in "${!serve_pids[@]}"; do
    wait "${serve_pids[$port]}" 2>/dev/null || true
  done
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true  # nginx's graceful stop
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -f "$run/ready"
  log "stopped"
  exit "${1:-0}"
}
trap stop TERM INT

start_serve() {
  local port=$1
  # shellcheck disable=SC2086  # SWITCHYARD_BIN may be a command with arguments
  $switchyard serve --config "$config" --host 127.0.0.1 --port "$port" --data-dir "$run/data-$port" \
    >>"$run/logs/serve-$port.log" 2>&1 &
  serve_pids[$port]=$!
  echo "$!" >"$run/pids/serve-$port.pid"
  log "switchyard on 127.0.0.1:$port (pid $!, log $run/logs/serve-$port.log)"
}

for port in $ports; do
  start_serve "$port"
done

deadline=$((SECONDS + ready_seconds))
for port in $ports; do
  until curl -fs -o /dev/null "http://127.0.0.1:$port/ready"; do
    if ! kill -0 "${serve_pids[$port]}" 2>/dev/null; then
      log "the process on port $port exited; see $run/logs/serve-$port.log"
      stop 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "the process on port $port is not ready after ${ready_seconds}s"
      stop 1
    fi
    sleep 0.2
  done
done

servers=""
for port in $ports; do
  servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done
user=""
if [ "$(id -u)" = 0 ]; then
  user="user root;"  # the workers must read this prefix, which root created
fi
awk -v run="$run" -v listen="$listen" -v servers="$servers" -v user="$user" '
  { gsub(/@RUN@/, run); gsub(/@LISTEN@/, listen); gsub(/@USER@/, user) }
  /^@SERVERS@$/ { printf "%s", servers; next }
  { print }' "$here/nginx.conf.template" >"$run/nginx.conf"

"$nginx" -p "$run" -e "$run/nginx-error.log" -c "$run/nginx.conf" -g "daemon off;" &
nginx_pid=$!
echo "$nginx_pid" >"$run/pids/nginx.pid"
until curl -s -o /dev/null "http://$listen/health"; do
  if ! kill -0 "$nginx_pid" 2>/dev/null; then
    log "nginx exited; see $run/nginx-error.log"
    nginx_pid=
    stop 1
  fi
  sleep 0.1
done
echo "http://$listen" >"$run/ready"
log "ready: http://$listen (run directory $run)"

# Runs until stopped, or until nginx exits on its own. A Switchyard process that dies is
# started again; meanwhile nginx sends its requests to the others, and the others take
# over its jobs (docs/scale-out.md).
while kill -0 "$nginx_pid" 2>/dev/null; do
  for port in $ports; do
    if ! kill -0 "${serve_pids[$port]}" 2>/dev/null; then
      log "the process on port $port died; starting it again"
      start_serve "$port"
    fi
  done
  sleep 0.5
done
nginx_pid=
stop 1
