# Shared steps of up.sh and test.sh: install what is missing, start the machine's services.
# Everything here is idempotent: run it twice and the second run only checks.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/.berth"
mkdir -p "$STATE/logs" "$STATE/run"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# generated_secret NAME: a random password kept in .berth/NAME (mode 0600), made on first use.
generated_secret() {
  local file="$STATE/$1"
  [ -s "$file" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$file")
  cat "$file"
}

# The local Postgres and Redis get generated passwords, not well-known ones. `source .berth/env`
# gives a shell the same settings (for pnpm test, the benchmarks, psql).
PG_PASSWORD=$(generated_secret postgres-password)
REDIS_PASSWORD=$(generated_secret redis-password)
PG_URL_BASE=${BERTH_PG_URL_BASE:-postgresql://postgres:$PG_PASSWORD@127.0.0.1:5432}
export REDIS_URL=${REDIS_URL:-redis://:$REDIS_PASSWORD@127.0.0.1:6379}
(umask 077 && cat >"$STATE/env" <<ENV
export BERTH_PG_URL_BASE='$PG_URL_BASE'
export REDIS_URL='$REDIS_URL'
export BERTH_TEST_TEMPLATE_URL='$PG_URL_BASE/berth_template'
ENV
)

# apt_install PACKAGE...: installs the packages given, if any.
apt_install() {
  [ $# -gt 0 ] || return 0
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

ensure_packages() {
  local missing=()
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || missing+=(busybox-static)
  command -v file >/dev/null || missing+=(file)
  command -v curl >/dev/null || missing+=(curl)
  # The load balancers' data plane (apps/load-balancer) and its tests: HAProxy 2.6 from Debian.
  command -v haproxy >/dev/null || missing+=(haproxy)
  # The e2e test hosts: network namespaces, veth pairs and a bridge (ip), netem (tc), nsenter.
  command -v ip >/dev/null && command -v tc >/dev/null || missing+=(iproute2)
  command -v nsenter >/dev/null || missing+=(util-linux)
  # The AWS CLI v2 from Debian, at /usr/bin/aws (another aws may come first on PATH): the ECS
  # protocol's tests and the berth profile up.sh writes.
  [ -x /usr/bin/aws ] || missing+=(awscli)
  apt_install "${missing[@]}"
  if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "12.21.0" ]; then
    log "installing pnpm 12.21.0"
    npm install -g pnpm@12.21.0 >/dev/null 2>&1
  fi
}

# A `berth` profile for the AWS CLI and SDKs (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): the
# key in the token file ("<id>:<secret>") and the gateway's region, which SigV4 scopes must name.
write_aws_profile() {
  local token region=$2 dir="$STATE/aws"
  token=$(cat "$1")
  (
    umask 077
    mkdir -p "$dir"
    printf '[berth]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "${token%%:*}" "${token#*:}" >"$dir/credentials"
    printf '[profile berth]\nregion = %s\noutput = json\n' "$region" >"$dir/config"
  )
}

start_postgres() {
  local version
  version=$(ls /etc/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
    log "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
  # The generated local password; production sets its own DATABASE_URL.
  runuser -u postgres -- psql -qtAc "ALTER USER postgres PASSWORD '$PG_PASSWORD'" >/dev/null
}

start_redis() {
  local open with_password
  open=$(redis-cli -p 6379 ping 2>/dev/null || true)
  with_password=$(REDISCLI_AUTH=$REDIS_PASSWORD redis-cli --no-auth-warning -p 6379 ping 2>/dev/null || true)
  if [ "$with_password" != PONG ] || [ "$open" = PONG ]; then
    # A Redis on 6379 that answers without a password, or not to this checkout's, is restarted with
    # it: Redis holds only queues and hints, which the apps rebuild from Postgres.
    if [ -n "$open" ]; then
      log "restarting Redis with this checkout's password"
      pkill -f 'redis-server .*:6379' || true
      for _ in $(seq 1 50); do redis-cli -p 6379 ping >/dev/null 2>&1 || break; sleep 0.1; done
    fi
    log "starting Redis"
    (umask 077 && printf 'port 6379\nbind 127.0.0.1\nsave ""\nappendonly no\nrequirepass %s\n' "$REDIS_PASSWORD" >"$STATE/redis.conf")
    redis-server "$STATE/redis.conf" --daemonize yes >/dev/null
    for _ in $(seq 1 50); do
      REDISCLI_AUTH=$REDIS_PASSWORD redis-cli --no-auth-warning ping 2>/dev/null | grep -q PONG && break
      sleep 0.1
    done
  fi
}

start_dockerd() {
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    nohup dockerd >"$STATE/logs/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $STATE/logs/dockerd.log" >&2; exit 1; }
  fi
  bash "$ROOT/images/busybox/build.sh"
}

# A private registry for the image-pull tests: Debian's docker-registry on 127.0.0.1 with htpasswd
# auth, holding berth/busybox as $BERTH_TEST_REGISTRY/berth/private-busybox:1. Docker treats
# registries on 127.0.0.0/8 as insecure (plain HTTP) by default, so no TLS is needed here.
start_test_registry() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  apt_install "${missing[@]}"
  export BERTH_TEST_REGISTRY=${BERTH_TEST_REGISTRY:-127.0.0.1:5005}
  export BERTH_TEST_REGISTRY_USER=berth-test
  export BERTH_TEST_REGISTRY_PASSWORD=berth-test-password
  local dir="$STATE/registry"
  mkdir -p "$dir/data"
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$BERTH_TEST_REGISTRY/v2/")" != 401 ]; then
    log "starting the test registry on $BERTH_TEST_REGISTRY"
    htpasswd -Bbc "$dir/htpasswd" "$BERTH_TEST_REGISTRY_USER" "$BERTH_TEST_REGISTRY_PASSWORD" 2>/dev/null
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $BERTH_TEST_REGISTRY
auth:
  htpasswd:
    realm: berth-test
    path: $dir/htpasswd
YAML
    nohup docker-registry serve "$dir/config.yml" >"$STATE/logs/registry.log" 2>&1 &
    for _ in $(seq 1 50); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$BERTH_TEST_REGISTRY/v2/")" = 401 ] && break
      sleep 0.2
    done
  fi
  # Push with a throwaway Docker config, so the login is not left behind for the tests to use.
  local image="$BERTH_TEST_REGISTRY/berth/private-busybox:1" config
  config=$(mktemp -d)
  docker tag berth/busybox:latest "$image"
  echo "$BERTH_TEST_REGISTRY_PASSWORD" | DOCKER_CONFIG=$config docker login -u "$BERTH_TEST_REGISTRY_USER" \
    --password-stdin "$BERTH_TEST_REGISTRY" >/dev/null 2>&1 || { echo "could not log in to the test registry" >&2; exit 1; }
  DOCKER_CONFIG=$config docker push -q "$image" >/dev/null
  rm -rf "$config"
  docker rmi "$image" >/dev/null
}

install_and_build() {
  log "installing dependencies and building"
  cd "$ROOT"
  pnpm install --frozen-lockfile >/dev/null
  pnpm build >"$STATE/logs/build.log" 2>&1 || { tail -40 "$STATE/logs/build.log"; exit 1; }
}

# migrate_database NAME: creates the database if needed and applies every migration.
migrate_database() {
  DATABASE_URL="$PG_URL_BASE/$1" pnpm --dir "$ROOT" --filter @berth/db migrate:deploy >"$STATE/logs/migrate-$1.log" 2>&1 \
    || { cat "$STATE/logs/migrate-$1.log"; exit 1; }
}

ensure_machine() {
  ensure_packages
  start_postgres
  start_redis
  start_dockerd
  install_and_build
}
