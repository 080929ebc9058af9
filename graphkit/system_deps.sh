#!/usr/bin/env bash
# System libraries graphkit needs to install from source on a fresh Debian/Ubuntu machine:
# ICU (libicu-dev, pkg-config), which PyICU compiles against (rigour -> normality -> pyicu;
# PyICU ships no wheels). Does nothing when they are present; uses sudo when not root.
set -euo pipefail
if pkg-config --exists icu-uc 2>/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null
