#!/usr/bin/env bash
# System packages the tests need that pip cannot bring: Debian's Chromium for the browser
# tests (Playwright drives it; it never downloads a browser of its own).
set -eu
if [ ! -x /usr/bin/chromium ]; then
  echo "system-deps: installing chromium (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: run as root, or: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "system-deps: chromium at /usr/bin/chromium"
