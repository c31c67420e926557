#!/usr/bin/env bash
# The project's test command (`npm test`): installs what the tests need when missing, then runs
# the type check, the linter, the shipped-config checks and the vitest suites.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
# report.html is checked in headless Chromium (the drills end-to-end test).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The rollout tests run the operators' own scripts, which read JSON with jq.
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# The container image's scripts are linted with shellcheck and run under tini (test/deploy).
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v tini >/dev/null 2>&1 || need_apt+=(tini)
# The HA tests start a throwaway PostgreSQL (initdb + postgres from /usr/lib/postgresql/*/bin).
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
have_postgres || need_apt+=(postgresql)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "test: installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The packages try to start system services; in a container that may print errors, the
  # binaries still install.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" || true
  for bin in promtool prometheus-alertmanager chromium jq shellcheck tini; do
    command -v "$bin" >/dev/null 2>&1 || { echo "test: $bin is still missing after apt-get install" >&2; exit 1; }
  done
  have_postgres || { echo "test: PostgreSQL (initdb) is still missing after apt-get install" >&2; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --allow-scripts=better-sqlite3,esbuild,protobufjs 2>/dev/null \
    || npm ci --no-audit --no-fund
fi

echo "test: type check and lint"
npx tsc -p tsconfig.json --noEmit
npx eslint .

echo "test: vitest"
report="$(mktemp -t sentinel-vitest-XXXXXX.json)"
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" 2>/dev/null || true
rm -f "$report"
exit $status
