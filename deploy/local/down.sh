#!/usr/bin/env bash
# Stops the apps and agents that up.sh started. Containers keep running (an agent started again
# adopts them); Postgres, Redis and dockerd keep running. The test hosts of `up.sh --netns` go
# entirely: their namespaces, dockerds and containers, their bridge and their agents' instance ids. `--purge` also stops and removes
# every container Berth started on this machine, with the tasks' networks and task volumes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUIET=0 PURGE=0
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --purge) PURGE=1 ;;
    *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
  esac
done
for pidfile in "$ROOT"/.berth/run/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
# The load-balancer app stops its HAProxy softly on SIGTERM; one it left behind (the app was
# killed) goes now.
for pidfile in "$ROOT"/.berth/lb/*/haproxy.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = haproxy ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
done
if [ -e /tmp/berth-netns/up ] || ip netns list | grep -q '^berth-h[0-9]*-up\b'; then
  bash "$ROOT/deploy/local/netns.sh" down up
  rm -rf "$ROOT"/.berth/agents/netns-*
fi
if [ "$PURGE" = 1 ]; then
  ids=$(docker ps -aq --filter label=berth.container-instance-id 2>/dev/null || true)
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  # Task networks and task-scoped volumes go with them; shared volumes stay.
  ids=$(docker network ls -q --filter label=berth.container-instance-id 2>/dev/null || true)
  [ -z "$ids" ] || docker network rm $ids >/dev/null
  ids=$(docker volume ls -q --filter label=berth.volume-scope=task 2>/dev/null || true)
  [ -z "$ids" ] || docker volume rm -f $ids >/dev/null
fi
[ "$QUIET" = 1 ] || echo "Berth apps stopped"
