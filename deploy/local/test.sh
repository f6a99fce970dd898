#!/usr/bin/env bash
# Runs every test: lint, typecheck, unit, integration (real Postgres and Redis) and end-to-end
# (real containers). Installs and starts what is missing first, like up.sh, but starts no apps:
# each test starts what it needs against its own database and Redis prefix.
#   deploy/local/test.sh
source "$(dirname "$0")/lib.sh"
ensure_machine
start_test_registry
# The console's end-to-end test drives Debian's Chromium headless (playwright-core, no browser
# download): only the tests need it, not up.sh.
[ -x /usr/bin/chromium ] || apt_install chromium

# Integration tests clone this migrated template database, one copy per test file.
log "preparing the test template database"
runuser -u postgres -- psql -qtAc "DROP DATABASE IF EXISTS berth_template WITH (FORCE)" >/dev/null
migrate_database berth_template
export BERTH_TEST_TEMPLATE_URL="$PG_URL_BASE/berth_template"

cd "$ROOT"
log "lint and typecheck"
pnpm lint
pnpm format:check
pnpm typecheck
log "tests"
pnpm test
