#!/usr/bin/env bash
# The test suite on the other Pythons the package claims (pyproject.toml's classifiers):
# `make test` runs it on python3 (3.11, the oldest supported); this runs it on 3.12 and
# 3.13, each in its own venv (.venv-3.12, .venv-3.13), without the `slow` reliability sweeps
# (they run once, on 3.11, in make test); TRADESTORE_EXTRA_PYTHONS_MARK= (empty) runs
# everything there too.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${TRADESTORE_EXTRA_PYTHONS:-"3.12 3.13"}
selection=${TRADESTORE_EXTRA_PYTHONS_MARK-not slow}  # the long sweeps run once, on 3.11 (make test)

find_python() {  # print an interpreter of version $1 (e.g. 3.12) that has venv, or fail
  local want=$1 candidate
  for candidate in "$(command -v "python$want" || true)" \
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python \
      /usr/local/bin/"python$want" /usr/bin/"python$want"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

missing=()
for version in $versions; do
  if ! python=$(find_python "$version"); then
    missing+=("$version")
    continue
  fi
  venv=.venv-$version
  echo "pythons: $("$python" -V) from $python${selection:+, tests: -m '$selection'}"
  if [ ! -f "$venv/.installed-stamp" ] || [ pyproject.toml -nt "$venv/.installed-stamp" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev,cli,bench]'
    touch "$venv/.installed-stamp"
  fi
  "$venv/bin/python" -m pytest -q -p no:cacheprovider ${selection:+-m "$selection"}
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "pythons: no Python ${missing[*]} on this machine (looked for python<version> on PATH," \
       "${PYENV_ROOT:-$HOME/.pyenv}/versions/<version>.*, /usr/local/bin, /usr/bin):" \
       "the package claims support for it, so CI cannot pass without it." \
       "Install it (pyenv install <version>, or the distribution's python<version>-venv package)" \
       "or set TRADESTORE_EXTRA_PYTHONS to the versions present." >&2
  exit 1
fi
