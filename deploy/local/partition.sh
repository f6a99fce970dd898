#!/usr/bin/env bash
# Cuts, heals or slows the links of the test hosts that `deploy/local/up.sh --netns` made (host i
# at 10.231.N.(10+i)). A cut is the host's link set down on the bridge side: packets drop silently
# both ways and no connection is reset, as when a cable or switch fails.
#   deploy/local/partition.sh INDEX|all on               cut
#   deploy/local/partition.sh INDEX|all off              heal, and clear any delay and loss
#   deploy/local/partition.sh INDEX|all --delay MS --loss PCT
#                                                        loss each way (nftables), and delay (tc netem, needs sch_netem)
set -euo pipefail
NETNS="$(dirname "$0")/netns.sh"
RUN=up

usage() { sed -n '5,8p' "$0" | sed 's/^# *//' >&2; exit 2; }
[ $# -ge 2 ] || usage
target=$1; shift
state="" delay="" loss=""
while [ $# -gt 0 ]; do
  case "$1" in
    on|off) state=$1; shift ;;
    --delay) delay=${2:-}; shift 2 || usage ;;
    --loss) loss=${2:-}; shift 2 || usage ;;
    *) usage ;;
  esac
done
[ -n "$state$delay$loss" ] || usage
hosts=$(ip netns list | awk '{print $1}' | sed -n "s/^berth-h\([0-9]*\)-$RUN\$/\1/p")
if [ -z "$hosts" ] || { [ "$target" != all ] && ! grep -qx "$target" <<<"$hosts"; }; then
  echo "no test host $target: start them with deploy/local/up.sh --netns" >&2
  exit 1
fi
[ -z "$state" ] || bash "$NETNS" partition "$RUN" "$target" "$state"
if [ "$state" = off ] && [ -z "$delay$loss" ]; then
  bash "$NETNS" netem "$RUN" "$target" 0 0
elif [ -n "$delay$loss" ]; then
  bash "$NETNS" netem "$RUN" "$target" "${delay:-0}" "${loss:-0}"
fi
