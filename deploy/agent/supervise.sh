#!/bin/sh
# A plain supervisor for the Berth agent on hosts without systemd: runs the agent, restarts it
# when it exits (1 s, doubling to 60 s; back to 1 s after a minute's run), appends its output to
# a log file, and stops it with itself on SIGTERM or SIGINT. deploy/agent/install.sh starts it as
#   setsid PREFIX/supervise.sh PREFIX
# with PREFIX/supervise.conf (NODE, LOG_FILE, RUN_DIR) and PREFIX/agent.env (the agent's settings,
# the join token among them: read here, so it is in no process's command line).
set -u
PREFIX=${1:?usage: supervise.sh PREFIX}
. "$PREFIX/supervise.conf"
MAX_LOG_BYTES=${MAX_LOG_BYTES:-10485760}

stopping=0
child=
sleeper=
on_stop() {
  stopping=1
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap on_stop TERM INT HUP

say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) supervise: $*" >>"$LOG_FILE"; }

mkdir -p "$RUN_DIR" "$(dirname "$LOG_FILE")"
echo $$ >"$RUN_DIR/supervisor.pid"
say "started (pid $$)"
delay=1
while [ "$stopping" = 0 ]; do
  # One old log is kept: LOG_FILE.1.
  if [ -f "$LOG_FILE" ] && [ "$(wc -c <"$LOG_FILE")" -gt "$MAX_LOG_BYTES" ]; then
    mv -f "$LOG_FILE" "$LOG_FILE.1"
  fi
  started=$(date +%s)
  (
    set -a
    . "$PREFIX/agent.env"
    set +a
    exec "$NODE" "$PREFIX/berth-agent.cjs"
  ) >>"$LOG_FILE" 2>&1 </dev/null &
  child=$!
  echo "$child" >"$RUN_DIR/agent.pid"
  # A trapped signal interrupts wait: wait again until the agent has really gone.
  status=0
  wait "$child" || status=$?
  while kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  child=
  rm -f "$RUN_DIR/agent.pid"
  [ "$stopping" = 1 ] && break
  ran=$(($(date +%s) - started))
  [ "$ran" -ge 60 ] && delay=1
  say "berth-agent exited with status $status after ${ran}s; restarting in ${delay}s"
  sleep "$delay" &
  sleeper=$!
  wait "$sleeper" 2>/dev/null
  sleeper=
  delay=$((delay * 2))
  [ "$delay" -gt 60 ] && delay=60
done
say "stopped"
rm -f "$RUN_DIR/supervisor.pid"
