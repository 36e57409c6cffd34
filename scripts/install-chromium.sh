#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium for the browser tests (tests/e2e/, Playwright).
# Playwright's own browser downloads are never used. Installs with apt-get when we are root or have sudo;
# when that is not possible, CI=true fails loudly and elsewhere the browser tests will skip with the reason.
set -euo pipefail
CHROMIUM="${LICITA_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = "0" ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  SUDO="none"
fi
if [ "$SUDO" != "none" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests (apt-get install -y chromium)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "FAIL: CI=true and $CHROMIUM is missing; it could not be installed with apt-get (need root or sudo)." >&2
  exit 1
fi
echo "WARNING: $CHROMIUM is missing and could not be installed (apt-get as root or sudo); the browser tests will be skipped." >&2
