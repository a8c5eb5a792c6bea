#!/usr/bin/env bash
# The dashboard's browser tests drive the machine's Chromium with Playwright for Python
# (which must never download a browser of its own): install Debian's when it is missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
/usr/bin/chromium --version
