#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: graphkit with its test extras
# (pytest, hypothesis, ruff, the ArcadeDB Bolt test server, Playwright's Python client,
# nbclient) and Debian's chromium for the browser tests. Never downloads a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash graphkit/system_deps.sh
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
