#!/usr/bin/env bash
# Brings up a local Berth cluster on this machine: Postgres, Redis and dockerd, then the
# api-gateway (REST on 127.0.0.1:8080, agent gRPC on 127.0.0.1:8443), scheduler,
# deployment-controller, a load-balancer app (with HAProxy) and N agents on 127.0.0.2, 127.0.0.3,
# ..., and runs the sample as a service of 2 tasks behind http://127.0.0.1:8000/.
# Idempotent: a second run rebuilds and restarts the apps; the database and tasks stay.
# --netns: each agent runs on a test host of its own instead, a network namespace with its own
# address 10.231.N.(10+i) and dockerd (deploy/local/netns.sh), reaching the gateway's gRPC on the
# hosts' bridge 10.231.N.1:8443; deploy/local/partition.sh cuts and slows their links. The hosts
# are made anew on each run, and down.sh removes them with their containers.
# --prometheus: also Debian's Prometheus on 127.0.0.1:9090, scraping every app's metrics
# (deploy/local/prometheus.yml; its targets and data in .berth/prometheus; docs/observability.md).
#   deploy/local/up.sh [--agents N] [--netns] [--prometheus]
source "$(dirname "$0")/lib.sh"

AGENTS=2 NETNS=0 PROMETHEUS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --agents) AGENTS=$2; shift 2 ;;
    --agents=*) AGENTS=${1#*=}; shift ;;
    --netns) NETNS=1; shift ;;
    --prometheus) PROMETHEUS=1; shift ;;
    *) echo "usage: $0 [--agents N] [--netns] [--prometheus]" >&2; exit 2 ;;
  esac
done
[[ "$AGENTS" =~ ^[0-9]+$ ]] && [ "$AGENTS" -ge 1 ] && [ "$AGENTS" -le 200 ] || { echo "--agents: 1..200" >&2; exit 2; }
[ "$NETNS" = 0 ] || [ "$AGENTS" -le 20 ] || { echo "--agents: 1..20 with --netns" >&2; exit 2; }

ensure_machine
[ "$PROMETHEUS" = 0 ] || command -v prometheus >/dev/null || apt_install --no-install-recommends prometheus
migrate_database berth

export DATABASE_URL="$PG_URL_BASE/berth" BERTH_REDIS_PREFIX=berth
# The master key that seals access-key secrets, cluster secrets and registry passwords: made once
# per checkout and kept, so sealed values still open after a restart. Production keeps its own
# keys in its secret store (docs/security.md says how to rotate them).
[ -s "$STATE/master-keys" ] || (umask 077 && node -e "process.stdout.write('local-1:' + require('node:crypto').randomBytes(32).toString('base64'))" >"$STATE/master-keys")
MASTER_KEYS=$(cat "$STATE/master-keys")
API=http://127.0.0.1:8080

# The database is the machine's, the master key this checkout's: a berth database that another
# checkout made holds keys sealed with that checkout's master key, which nothing here can open.
# It starts afresh (with that cluster's containers removed), rather than failing to start.
if [ ! -s "$STATE/admin-token" ] && [ "$(psql "$DATABASE_URL" -tAc \
  'SELECT (SELECT count(*) FROM access_key) + (SELECT count(*) FROM certificate_authority)')" != 0 ]; then
  log "the berth database was made by another checkout (.berth/master-keys does not open it): starting it afresh"
  bash "$ROOT/deploy/local/down.sh" --quiet --purge
  runuser -u postgres -- psql -qtAc "DROP DATABASE IF EXISTS berth WITH (FORCE)" >/dev/null
  migrate_database berth
fi

bash "$ROOT/deploy/local/down.sh" --quiet
GRPC_HOST=127.0.0.1
if [ "$NETNS" = 1 ]; then
  log "making $AGENTS test host(s) in network namespaces"
  NET=$(bash "$ROOT/deploy/local/netns.sh" up up "$AGENTS")
  GRPC_HOST=10.231.$NET.1
fi

start_app() { # name command...
  local name=$1; shift
  nohup "$@" >>"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/run/$name.pid"
}

log "starting api-gateway, scheduler, deployment-controller, load-balancer"
# Only the gateway (and berth-admin beside it) holds the master keys.
# Its gRPC listener is TLS only, with a certificate from the cluster CA for these names.
start_app api-gateway env BERTH_MASTER_KEYS="$MASTER_KEYS" BERTH_GRPC_HOST="$GRPC_HOST" \
  BERTH_GRPC_TLS_NAMES="$GRPC_HOST,127.0.0.1,localhost" node "$ROOT/apps/api-gateway/dist/main.js"
start_app scheduler node "$ROOT/apps/scheduler/dist/main.js"
start_app deployment-controller node "$ROOT/apps/deployment-controller/dist/main.js"
# The data plane of the load balancer `sample`: this app drives one HAProxy (its config, sockets
# and log in .berth/lb/sample). down.sh stops both.
start_app load-balancer node "$ROOT/apps/load-balancer/dist/main.js" --load-balancer sample --bind 127.0.0.1 \
  --id local-1 --run-dir "$STATE/lb/sample"
for _ in $(seq 1 100); do curl -fs "$API/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$API/healthz" >/dev/null || { tail -20 "$STATE/logs/api-gateway.log"; exit 1; }

# The first administrator key, made once; the README's examples send it as a bearer token.
BERTH_MASTER_KEYS="$MASTER_KEYS" node "$ROOT/apps/api-gateway/dist/admin.js" create-admin-key --name local-admin --if-none --out "$STATE/admin-token" >/dev/null
[ -s "$STATE/admin-token" ] || { echo "access keys exist but $STATE/admin-token is missing: make one with node apps/api-gateway/dist/admin.js create-admin-key --out $STATE/admin-token" >&2; exit 1; }
AUTH="authorization: Bearer $(cat "$STATE/admin-token")"
write_aws_profile "$STATE/admin-token" "${BERTH_REGION:-local}"

# Agents join with a token once, then hold certificates in their data dirs (docs/operations.md).
# It goes in the environment, not the command line, so ps does not show it.
curl -fs -H "$AUTH" -H 'content-type: application/json' -d '{"clusterName":"default"}' "$API/v1/clusters" >/dev/null
JOIN_TOKEN=$(curl -fs -H "$AUTH" -H 'content-type: application/json' -d "{\"ttlSeconds\":3600,\"maxUses\":$AGENTS}" \
  "$API/v1/clusters/default/join-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$JOIN_TOKEN" ] || { echo "could not create a join token" >&2; exit 1; }

log "starting $AGENTS agent(s)"
for i in $(seq 1 "$AGENTS"); do
  # Agents get no database URL, Redis URL or key: they speak only gRPC to the gateway.
  if [ "$NETNS" = 1 ]; then
    # On test host i, with its dockerd; its task networks are its own, inside its namespace.
    start_app "agent-$i" env -u DATABASE_URL -u REDIS_URL BERTH_JOIN_TOKEN="$JOIN_TOKEN" DOCKER_SOCKET="/tmp/berth-netns/up/h$i/docker.sock" \
      nsenter --net="/var/run/netns/berth-h$i-up" node "$ROOT/apps/host-agent/dist/main.js" \
      --gateway "$GRPC_HOST:8443" --cluster default --host-address "10.231.$NET.$((10 + i))" \
      --task-network-pool 10.231.128.0/17 --data-dir "$STATE/agents/netns-$i" --cpu 2048 --memory 2048 \
      --attribute "zone=local-$(( (i - 1) % 2 ))" --metrics-host "10.231.$NET.$((10 + i))"
  else
    # Each agent's metrics on its own address, all on the default port 9404.
    start_app "agent-$i" env -u DATABASE_URL -u REDIS_URL BERTH_JOIN_TOKEN="$JOIN_TOKEN" node "$ROOT/apps/host-agent/dist/main.js" \
      --gateway 127.0.0.1:8443 --cluster default --host-address "127.0.0.$((i + 1))" \
      --data-dir "$STATE/agents/$i" --cpu 2048 --memory 2048 --attribute "zone=local-$(( (i - 1) % 2 ))" \
      --metrics-host "127.0.0.$((i + 1))"
  fi
done
if [ "$PROMETHEUS" = 1 ]; then
  # Every app on its default metrics port (docs/observability.md); the agents on their addresses.
  mkdir -p "$STATE/prometheus/data"
  {
    echo '['
    for app in api-gateway:9400 scheduler:9401 deployment-controller:9402 load-balancer:9403; do
      printf '  {"targets": ["127.0.0.1:%s"], "labels": {"app": "%s"}},\n' "${app#*:}" "${app%%:*}"
    done
    for i in $(seq 1 "$AGENTS"); do
      if [ "$NETNS" = 1 ]; then address=10.231.$NET.$((10 + i)); else address=127.0.0.$((i + 1)); fi
      printf '  {"targets": ["%s:9404"], "labels": {"app": "host-agent", "agent": "agent-%s"}}%s\n' \
        "$address" "$i" "$([ "$i" = "$AGENTS" ] || echo ,)"
    done
    echo ']'
  } >"$STATE/prometheus/targets.json"
  log "starting Prometheus on http://127.0.0.1:9090"
  start_app prometheus prometheus --config.file="$ROOT/deploy/local/prometheus.yml" \
    --storage.tsdb.path="$STATE/prometheus/data" --web.listen-address=127.0.0.1:9090
fi

for _ in $(seq 1 100); do
  connected=$(curl -fs -H "$AUTH" "$API/v1/clusters/default/container-instances" | grep -o '"agentConnected":true' | wc -l || true)
  [ "$connected" -ge "$AGENTS" ] && break
  sleep 0.2
done

# The sample: a service of 2 busybox httpd tasks on dynamic host ports, behind the target group
# sample-tg and the listener 127.0.0.1:8000 of the load balancer `sample` (docs/load-balancing.md).
# Made once: a resource that exists already is kept. Standalone sample tasks of earlier versions
# of this script are stopped.
curl -fs -H "$AUTH" "$API/v1/clusters/default/tasks?desiredStatus=RUNNING&startedBy=berth-sample" |
  node -e 'for (const t of JSON.parse(require("fs").readFileSync(0, "utf8")).tasks) console.log(t.taskArn.split("/").pop())' |
  while read -r id; do
    curl -fs -X POST "$API/v1/clusters/default/tasks/$id/stop" -H "$AUTH" -H 'content-type: application/json' -d '{}' >/dev/null
  done
# POSTs $2 to $1; an answer of 409 (it exists) is fine.
create() {
  local status
  status=$(curl -s -o "$STATE/run/create.out" -w '%{http_code}' -X POST "$API$1" -H "$AUTH" -H 'content-type: application/json' -d "$2")
  [ "$status" = 200 ] || [ "$status" = 409 ] || { echo "POST $1: $status $(cat "$STATE/run/create.out")" >&2; exit 1; }
}
create /v1/target-groups '{"name":"sample-tg","protocol":"HTTP","healthCheck":{"path":"/","intervalSeconds":5,"timeoutSeconds":2,"healthyThresholdCount":2,"unhealthyThresholdCount":2},"deregistrationDelaySeconds":5}'
TG_ARN=$(curl -fs -H "$AUTH" "$API/v1/target-groups/sample-tg" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).targetGroup.targetGroupArn)')
create /v1/load-balancers "{\"name\":\"sample\",\"listeners\":[{\"port\":8000,\"protocol\":\"HTTP\",\"defaultTargetGroupArn\":\"$TG_ARN\"}]}"
SERVICE_STATUS=$(curl -s -H "$AUTH" "$API/v1/clusters/default/services/sample" | node -e '
  try { console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).service.status ?? "") } catch { console.log("") }')
if [ "$SERVICE_STATUS" != ACTIVE ]; then
  log "registering the sample task definition and creating the sample service"
  curl -fs -X POST "$API/v1/task-definitions" -H "$AUTH" -H 'content-type: application/json' \
    -d @"$ROOT/deploy/local/sample-task-definition.json" >/dev/null
  create /v1/clusters/default/services "{\"serviceName\":\"sample\",\"taskDefinition\":\"sample-web\",\"desiredCount\":2,\"loadBalancers\":[{\"targetGroupArn\":\"$TG_ARN\",\"containerName\":\"web\",\"containerPort\":80}]}"
fi
SAMPLE_URL=http://127.0.0.1:8000/
# The listener answers once a task's target passed its health checks (about 10 s after it starts).
sample_up=0
for _ in $(seq 1 300); do
  curl -fs -o /dev/null "$SAMPLE_URL" && { sample_up=1; break; }
  sleep 0.2
done
if [ "$NETNS" = 1 ]; then
  log "Berth is up: REST on $API (OpenAPI at $API/docs/json), $AGENTS agent(s) on test hosts 10.231.$NET.11..$((10 + AGENTS)) (deploy/local/partition.sh cuts them); logs in .berth/logs"
else
  log "Berth is up: REST on $API (OpenAPI at $API/docs/json), $AGENTS agent(s); logs in .berth/logs"
fi
[ "$PROMETHEUS" = 0 ] || echo "Prometheus: http://127.0.0.1:9090 (every app's metrics; dashboard in deploy/grafana/berth.json)"
echo "web console: $API/console/ (sign in with the administrator key: cat .berth/admin-token)"
echo "administrator key: .berth/admin-token (send it as -H \"authorization: Bearer \$(cat .berth/admin-token)\")"
echo "AWS CLI (ECS API on the same port): AWS_SHARED_CREDENTIALS_FILE=.berth/aws/credentials AWS_CONFIG_FILE=.berth/aws/config aws ecs --endpoint-url $API --profile berth list-clusters"
if [ "$sample_up" = 1 ]; then
  echo "load-balanced sample: $SAMPLE_URL"
else
  echo "the load-balanced sample does not answer yet at $SAMPLE_URL: curl -H \"authorization: Bearer \$(cat .berth/admin-token)\" $API/v1/target-groups/sample-tg/health" >&2
fi
