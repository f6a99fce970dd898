#!/bin/sh
# Installs the Berth agent on a host: the one-file bundle, its settings in a 0600 env file, and a
# service that keeps it running (systemd where systemd runs, a plain supervisor otherwise).
#
#   install.sh --gateway HOST:PORT --join-token TOKEN [options]
#   install.sh --uninstall [--prefix DIR] [--purge]
#
# Options:
#   --gateway ADDR       the gateways' agent gRPC address(es): 10.0.0.5:8443[,10.0.0.6:8443]
#   --join-token TOKEN   from POST /v1/clusters/{cluster}/join-tokens (or BERTH_JOIN_TOKEN in the
#                        environment, which keeps it out of this command line too)
#   --cluster NAME       cluster the token was made for (default: default)
#   --host-address IP    address container ports are published on (default: the agent's, 127.0.0.1)
#   --bundle FILE        berth-agent.cjs (default: next to this script, else the repo's
#                        apps/host-agent/dist/berth-agent.cjs)
#   --prefix DIR         where the bundle, env file, supervisor, pid files and log go
#                        (default /opt/berth-agent)
#   --state-dir DIR      the agent's data dir: instance id, key, certificate (default /var/lib/berth-agent)
#   --env KEY=VALUE      any other agent variable (BERTH_CPU=2048, BERTH_ATTRIBUTES=zone=a), repeatable
#   --node FILE          the node binary, 20 or newer (default: node on PATH)
#   --init systemd|supervisor|auto   what keeps the agent running (default auto: systemd if it is PID 1)
#   --no-start           install only
#   --uninstall          stop the agent and remove what this script installed; the state dir is
#                        kept unless --purge (deregister the instance first: docs/operations.md)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
gateway='' token=${BERTH_JOIN_TOKEN:-} cluster=default host_address='' bundle='' prefix=/opt/berth-agent
state_dir=/var/lib/berth-agent node='' init=auto start=1 uninstall=0 purge=0 extra_env=''
UNIT_PATH=${BERTH_SYSTEMD_UNIT_DIR:-/etc/systemd/system}/berth-agent.service

die() { echo "install.sh: $*" >&2; exit 1; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }

while [ $# -gt 0 ]; do
  case $1 in
    --gateway) need "$@"; gateway=$2; shift 2 ;;
    --join-token) need "$@"; token=$2; shift 2 ;;
    --cluster) need "$@"; cluster=$2; shift 2 ;;
    --host-address) need "$@"; host_address=$2; shift 2 ;;
    --bundle) need "$@"; bundle=$2; shift 2 ;;
    --prefix) need "$@"; prefix=$2; shift 2 ;;
    --state-dir) need "$@"; state_dir=$2; shift 2 ;;
    --node) need "$@"; node=$2; shift 2 ;;
    --init) need "$@"; init=$2; shift 2 ;;
    --env) need "$@"; case $2 in BERTH_*=* | DOCKER_SOCKET=*) ;; *) die "--env: BERTH_NAME=value or DOCKER_SOCKET=path, got '$2'" ;; esac
      extra_env="$extra_env
$2"; shift 2 ;;
    --no-start) start=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
case $state_dir in /*) ;; *) state_dir=$(pwd)/$state_dir ;; esac
case $init in
  auto) if [ -d /run/systemd/system ]; then init=systemd; else init=supervisor; fi ;;
  systemd | supervisor) ;;
  *) die "--init: systemd, supervisor or auto, got '$init'" ;;
esac

# A process that exists and is not a zombie (one whose parent has not reaped it yet).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ ! -r "/proc/$1/stat" ] || [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat")" != Z ]
}

supervisor_running() {
  [ -f "$prefix/run/supervisor.pid" ] && alive "$(cat "$prefix/run/supervisor.pid")"
}

stop_supervisor() {
  supervisor_running || return 0
  pid=$(cat "$prefix/run/supervisor.pid")
  kill -TERM "$pid"
  i=0
  while alive "$pid"; do
    i=$((i + 1))
    [ $i -gt 300 ] && die "the supervisor (pid $pid) did not stop within 30 s"
    sleep 0.1
  done
  echo "stopped the supervisor (pid $pid) and the agent"
}

if [ "$uninstall" = 1 ]; then
  if [ "$init" = systemd ] && [ -f "$UNIT_PATH" ]; then
    systemctl disable --now berth-agent.service || true
    rm -f "$UNIT_PATH"
    systemctl daemon-reload
    echo "removed $UNIT_PATH"
  fi
  stop_supervisor
  rm -f "$prefix/berth-agent.cjs" "$prefix/agent.env" "$prefix/supervise.sh" "$prefix/supervise.conf"
  rm -rf "$prefix/run"
  echo "removed the agent from $prefix (logs kept in $prefix/log)"
  if [ "$purge" = 1 ]; then
    rm -rf "$state_dir" "$prefix/log"
    rmdir "$prefix" 2>/dev/null || true
    echo "removed $state_dir: this host would join as a new instance"
  else
    echo "kept $state_dir (the host's identity); --purge removes it"
  fi
  echo "Containers started by the agent keep running: deregister the instance (docs/operations.md) or remove them with docker."
  exit 0
fi

[ -n "$gateway" ] || die "--gateway HOST:PORT is required"
[ -n "$token" ] || [ -f "$state_dir/agent-cert.pem" ] ||
  die "--join-token is required (this host holds no certificate in $state_dir yet)"

# Node 20 or newer.
[ -n "$node" ] || node=$(command -v node || true)
if [ -z "$node" ] || [ ! -x "$node" ]; then die "node not found: install Node.js 20 or newer, or pass --node"; fi
major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "$node is Node $("$node" --version): the agent needs Node 20 or newer"
case $node in /*) ;; *) node=$(cd "$(dirname "$node")" && pwd)/$(basename "$node") ;; esac

if [ -z "$bundle" ]; then
  for candidate in "$here/berth-agent.cjs" "$here/../../apps/host-agent/dist/berth-agent.cjs"; do
    [ -f "$candidate" ] && { bundle=$candidate; break; }
  done
  [ -n "$bundle" ] || die "no bundle: pass --bundle FILE (made by 'pnpm bundle:agent' as apps/host-agent/dist/berth-agent.cjs)"
fi
[ -f "$bundle" ] || die "--bundle: $bundle does not exist"
"$node" "$bundle" --version >/dev/null || die "$bundle does not run with $node"

[ -S "${DOCKER_SOCKET:-/var/run/docker.sock}" ] ||
  echo "install.sh: warning: no Docker socket at ${DOCKER_SOCKET:-/var/run/docker.sock}; the agent waits for dockerd" >&2

# Values go into the env file single-quoted: refuse what would break out of the quotes.
quote() {
  case $2 in *"'"* | *'
'*) die "$1: quotes and newlines are not allowed" ;; esac
  printf "%s='%s'\n" "$1" "$2"
}

umask 077
mkdir -p "$prefix" "$prefix/run" "$prefix/log" "$state_dir"
chmod 0755 "$prefix"
chmod 0700 "$state_dir"
cp "$bundle" "$prefix/berth-agent.cjs.new"
chmod 0755 "$prefix/berth-agent.cjs.new"
mv -f "$prefix/berth-agent.cjs.new" "$prefix/berth-agent.cjs"
{
  echo "# Settings of the Berth agent (deploy/agent/install.sh). Mode 0600: it holds the join token,"
  echo "# needed only until the agent has its certificate in BERTH_DATA_DIR."
  quote BERTH_GATEWAY "$gateway"
  quote BERTH_CLUSTER "$cluster"
  quote BERTH_DATA_DIR "$state_dir"
  [ -z "$host_address" ] || quote BERTH_HOST_ADDRESS "$host_address"
  [ -z "$token" ] || quote BERTH_JOIN_TOKEN "$token"
  printf '%s\n' "$extra_env" | while IFS= read -r kv; do
    [ -z "$kv" ] || quote "${kv%%=*}" "${kv#*=}"
  done
} >"$prefix/agent.env.new"
chmod 0600 "$prefix/agent.env.new"
mv -f "$prefix/agent.env.new" "$prefix/agent.env"
echo "installed $prefix/berth-agent.cjs ($("$node" "$prefix/berth-agent.cjs" --version)) and $prefix/agent.env (0600)"

if [ "$init" = systemd ]; then
  sed -e "s#@PREFIX@#$prefix#g" -e "s#@NODE@#$node#g" "$here/berth-agent.service" >"$UNIT_PATH"
  chmod 0644 "$UNIT_PATH"
  systemctl daemon-reload
  systemctl enable berth-agent.service
  if [ "$start" = 1 ]; then
    systemctl restart berth-agent.service
    echo "started berth-agent.service: journalctl -u berth-agent -f; stop with: systemctl stop berth-agent"
  fi
  exit 0
fi

cp "$here/supervise.sh" "$prefix/supervise.sh"
chmod 0755 "$prefix/supervise.sh"
{
  quote NODE "$node"
  quote LOG_FILE "$prefix/log/berth-agent.log"
  quote RUN_DIR "$prefix/run"
} >"$prefix/supervise.conf"
stop_supervisor
[ "$start" = 1 ] || { echo "not started (--no-start): setsid $prefix/supervise.sh $prefix"; exit 0; }
# setsid: the supervisor outlives this shell and its terminal.
setsid "$prefix/supervise.sh" "$prefix" </dev/null >/dev/null 2>&1 &
i=0
until supervisor_running; do
  i=$((i + 1))
  [ $i -gt 50 ] && die "the supervisor did not start; see $prefix/log/berth-agent.log"
  sleep 0.1
done
cat <<INFO
started the agent under a plain supervisor (no systemd here), pid $(cat "$prefix/run/supervisor.pid")
  log:     $prefix/log/berth-agent.log
  stop:    kill \$(cat $prefix/run/supervisor.pid)      (the agent's containers keep running)
  start:   setsid $prefix/supervise.sh $prefix </dev/null >/dev/null 2>&1 &
  remove:  $0 --uninstall --prefix $prefix
Nothing starts it at boot: add the start line to /etc/rc.local or your init system.
INFO
