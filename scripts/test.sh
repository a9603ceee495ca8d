#!/usr/bin/env bash
# Set up a fresh machine for the test suite and run all of it (the slow fits included).
# Installs Debian's chromium and chromedriver (for the report rendering test) when missing,
# creates .venv, installs the project with its test extras at the pinned versions, runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q -c constraints.txt -e '.[test]'
exec .venv/bin/python -m pytest "$@"
