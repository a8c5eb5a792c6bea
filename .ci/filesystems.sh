#!/usr/bin/env bash
# The mkfs tools the loop-mount tests (tests/persistence/test_spares.py) and
# `make bench` (benchmarks/filesystems.py) use; both skip a file system whose tool is missing.
set -euo pipefail
missing=()
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v mkfs.xfs >/dev/null || missing+=(xfsprogs)
command -v mkfs.btrfs >/dev/null || missing+=(btrfs-progs)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
