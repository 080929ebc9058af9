#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: graphkit with its test extras
# (pytest, hypothesis, ruff, the ArcadeDB Bolt test server, Playwright's Python client,
# nbclient), Debian's chromium for the browser tests, and Debian's node and npm for Neo4j's
# Cypher linter (npm ci of the exact version locked in tests/cypher_lint). Never downloads
# a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash graphkit/system_deps.sh
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v node >/dev/null 2>&1 || MISSING="$MISSING nodejs"
command -v npm >/dev/null 2>&1 || MISSING="$MISSING npm"
if [ -n "$MISSING" ]; then
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
npm ci --prefix tests/cypher_lint --no-audit --no-fund --loglevel=error
