#!/usr/bin/env bash
# Test hosts in network namespaces: each host is a namespace berth-h<i>-<run> with its own
# address 10.231.<net>.(10+i) on a bridge berthbr-<run> (10.231.<net>.1/24 in the root namespace)
# and its own dockerd, started with nsenter --net (not `ip netns exec`, which remounts /sys and
# hides the cgroups dockerd needs). No default route: a host reaches only the bridge's /24.
# Used by deploy/local/up.sh --netns, partition.sh and the e2e harness (@berth/testing netns.ts).
#   netns.sh up RUN COUNT [OWNER_PID]       make COUNT hosts on a free 10.231.NET.0/24, print NET;
#                                            OWNER_PID's death makes them stale
#   netns.sh down RUN                        remove a run's hosts, dockerds, bridge and files
#   netns.sh clean-stale                     remove every run whose owner is gone, and strays
#   netns.sh partition RUN INDEX|all on|off  cut or heal hosts' links
#   netns.sh netem RUN INDEX|all DELAY_MS LOSS_PCT   delay and loss each way (0 0 clears);
#                                            a delay needs sch_netem, loss does not
#   netns.sh can-delay                       exit 0 when this kernel can delay packets
set -euo pipefail
BASE=/tmp/berth-netns

ns_name() { echo "berth-h$2-$1"; }    # RUN INDEX
veth_name() { echo "berthv$2-$1"; }   # RUN INDEX: the root namespace's end of host INDEX's link
bridge_name() { echo "berthbr-$1"; }  # RUN

valid_run() { [[ "$1" =~ ^[a-z0-9]{1,6}$ ]] || { echo "run id: 1-6 of a-z 0-9, got '$1'" >&2; exit 2; }; }

# The host indexes of a run, from its namespaces.
hosts_of() {
  ip netns list | awk '{print $1}' | sed -n "s/^berth-h\([0-9]*\)-$1\$/\1/p" | sort -n
}

up() {
  local run=$1 count=$2 owner=${3:-} dir br net i ns veth h
  valid_run "$run"
  [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le 20 ] || { echo "count: 1..20" >&2; exit 2; }
  dir="$BASE/$run" br=$(bridge_name "$run")
  mkdir -p "$dir"
  echo "$owner" >"$dir/owner"
  ip link add "$br" type bridge
  # Under a lock, so runs side by side never take the same /24.
  exec 9>"$BASE/.lock"
  flock 9
  net=$(free_net)
  ip addr add "10.231.$net.1/24" dev "$br"
  exec 9>&-
  ip link set "$br" up
  for i in $(seq 1 "$count"); do
    ns=$(ns_name "$run" "$i") veth=$(veth_name "$run" "$i") h="$dir/h$i"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$br" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "10.231.$net.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "$h"
    # --bridge=none: task networks come from the agent's pool; vfs keeps no mounts to clean up;
    # env -i: no database or Redis settings of the caller's reach the host.
    nsenter --net="/var/run/netns/$ns" env -i PATH="$PATH" setsid dockerd --data-root "$h/data" --exec-root "$h/exec" \
      -H "unix://$h/docker.sock" --pidfile "$h/docker.pid" --bridge=none --storage-driver vfs \
      </dev/null >"$h/dockerd.log" 2>&1 &
  done
  for i in $(seq 1 "$count"); do
    h="$dir/h$i"
    for _ in $(seq 1 150); do docker -H "unix://$h/docker.sock" info >/dev/null 2>&1 && break; sleep 0.2; done
    docker -H "unix://$h/docker.sock" info >/dev/null 2>&1 || { tail -20 "$h/dockerd.log" >&2; exit 1; }
    docker save berth/busybox:latest | docker -H "unix://$h/docker.sock" load -q >/dev/null
  done
  echo "$net"
}

down() {
  local run=$1 dir i ns pid sock
  valid_run "$run"
  dir="$BASE/$run"
  for i in $(hosts_of "$run"); do
    ns=$(ns_name "$run" "$i") sock="unix://$dir/h$i/docker.sock"
    # The agents first, so they report nothing while their containers go.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      [ "$(ps -o comm= -p "$pid" 2>/dev/null)" != node ] || kill -9 "$pid" 2>/dev/null || true
    done
    pid=$(cat "$dir/h$i/docker.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      docker -H "$sock" ps -aq 2>/dev/null | xargs -r docker -H "$sock" rm -f >/dev/null 2>&1 || true
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true # takes its end of the veth pair, and so the pair
  done
  ip link del "$(bridge_name "$run")" 2>/dev/null || true
  # A dockerd that died uncleanly can leave its containers' namespace mounts behind.
  awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dir"
}

# Runs whose owner process is gone, and namespaces or bridges with no run directory.
clean_stale() {
  local run owner runs
  runs=$( { ip netns list | awk '{print $1}' | sed -n 's/^berth-h[0-9]*-\([a-z0-9]*\)$/\1/p'
            ip -o link show type bridge | awk -F': ' '{print $2}' | sed -n 's/^berthbr-\([a-z0-9]*\)$/\1/p'
            ls "$BASE" 2>/dev/null || true; } | sort -u)
  for run in $runs; do
    owner=$(cat "$BASE/$run/owner" 2>/dev/null || true)
    if [ -z "$owner" ] && [ -e "$BASE/$run/owner" ]; then continue; fi # up.sh's hosts: down.sh's job
    if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then continue; fi
    echo "removing stale test hosts of run $run" >&2
    down "$run"
  done
}

targets() { # RUN INDEX|all
  if [ "$2" = all ]; then hosts_of "$1"; else echo "$2"; fi
}

partition() {
  local run=$1 which=$2 state=$3 i
  case "$state" in on) state=down ;; off) state=up ;; *) echo "partition: on or off" >&2; exit 2 ;; esac
  # Link down on the bridge side: both directions drop silently, as on a cut cable; the kernel
  # sends no reset, so connections hang until keepalives or timeouts notice, as they would.
  for i in $(targets "$run" "$which"); do ip link set "$(veth_name "$run" "$i")" "$state"; done
}

netem() {
  local run=$1 which=$2 delay=$3 loss=$4 i ns in_ns probability
  [[ "$delay" =~ ^[0-9]+$ ]] && [[ "$loss" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "netem: DELAY_MS LOSS_PCT" >&2; exit 2; }
  if [ "$delay" != 0 ] && ! can_delay; then
    echo "a delay needs tc netem, and this kernel has no sch_netem (loss alone works)" >&2
    exit 1
  fi
  probability=$(awk -v p="$loss" 'BEGIN { printf "%.4f", p / 100 }')
  for i in $(targets "$run" "$which"); do
    ns=$(ns_name "$run" "$i") in_ns=(nsenter --net="/var/run/netns/$ns")
    # Loss: random drops in the host's own firewall, on its link only, each way. nftables'
    # statistic match needs no qdisc module, so loss works on kernels without sch_netem.
    if ! "${in_ns[@]}" iptables -F berth-loss 2>/dev/null; then
      "${in_ns[@]}" iptables -N berth-loss
      "${in_ns[@]}" iptables -I INPUT -i eth0 -j berth-loss
      "${in_ns[@]}" iptables -I OUTPUT -o eth0 -j berth-loss
    fi
    [ "$loss" = 0 ] ||
      "${in_ns[@]}" iptables -A berth-loss -m statistic --mode random --probability "$probability" -j DROP
    # Delay: netem on both ends of the link, so each direction is delayed.
    if [ "$delay" = 0 ]; then
      tc qdisc del dev "$(veth_name "$run" "$i")" root 2>/dev/null || true
      "${in_ns[@]}" tc qdisc del dev eth0 root 2>/dev/null || true
    else
      tc qdisc replace dev "$(veth_name "$run" "$i")" root netem delay "${delay}ms"
      "${in_ns[@]}" tc qdisc replace dev eth0 root netem delay "${delay}ms"
    fi
  done
}

# Whether this kernel can delay packets (sch_netem); checked on a throwaway dummy link.
can_delay() {
  local probe=berthnq$$ ok=1
  ip link add "$probe" type dummy 2>/dev/null || return 1
  tc qdisc add dev "$probe" root netem delay 1ms 2>/dev/null || ok=0
  ip link del "$probe" 2>/dev/null || true
  [ "$ok" = 1 ]
}

# The first 10.231.NET.0/24 (NET 0..127) that no interface here uses.
free_net() {
  local net
  for net in $(seq 0 127); do
    ip -4 -o addr show | grep -q " 10\.231\.$net\.1/" || { echo "$net"; return; }
  done
  echo "no free 10.231.N.0/24 left" >&2
  exit 1
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up "$@" ;;
  down) down "$@" ;;
  clean-stale) clean_stale ;;
  partition) partition "$@" ;;
  netem) netem "$@" ;;
  can-delay) can_delay ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
