"""Check what the built distributions carry; run the README's examples against an install.

Used by .ci/package.sh:

    python .ci/check_dist.py contents DIST_DIR SRC_DIR   # the wheel and sdist hold what they must
    python .ci/check_dist.py readme README.md PYTHON     # each ```python block runs under PYTHON

Standard library only: it runs before and outside any project environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

# Files of the source package that are notes for developers, not parts of the package.
NOT_SHIPPED = {".md"}


def _fail(message: str) -> None:
    print(f"package check: {message}", file=sys.stderr)
    raise SystemExit(1)


def _shipped_sources(src: Path) -> set[str]:
    """Every file under src/tradestore a user's install needs, as wheel paths."""
    out = subprocess.run(
        ["git", "ls-files", "--", "tradestore"], cwd=src, capture_output=True, text=True,
        check=True,
    ).stdout.split()
    return {name for name in out if PurePosixPath(name).suffix not in NOT_SHIPPED}


def check_contents(dist: Path, src: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(zf.read(meta_name).decode())
    info = meta_name.rsplit("/", 1)[0]
    if meta["License-Expression"] != "MIT":
        _fail(f"wheel metadata License-Expression is {meta['License-Expression']!r}, not MIT")
    if f"{info}/licenses/LICENSE" not in names:
        _fail("the wheel does not carry LICENSE")
    for required in ("tradestore/py.typed", "tradestore/__main__.py"):
        if required not in names:
            _fail(f"the wheel lacks {required}")
    missing = sorted(_shipped_sources(src) - names)
    if missing:
        _fail(f"the wheel lacks files of the package (package-data?): {missing}")
    foreign = sorted(n for n in names if not n.startswith(("tradestore/", f"{info}/")))
    if foreign:
        _fail(f"the wheel carries files from outside the package: {foreign}")
    caches = sorted(n for n in names if "__pycache__" in n or n.endswith(".pyc"))
    if caches:
        _fail(f"the wheel carries compiled caches: {caches}")
    with tarfile.open(sdist) as tf:
        top = tf.getnames()[0].split("/", 1)[0]
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for required in ("LICENSE", "README.md", "pyproject.toml", "CHANGELOG.md"):
        if required not in in_sdist:
            _fail(f"the sdist {top} lacks {required}")
    sql = sorted(n for n in names if n.endswith(".sql"))
    print(f"package check: {wheel.name}: {len(names)} files, {len(sql)} migrations, "
          f"License-Expression MIT, py.typed; {sdist.name}: {len(in_sdist)} files")


def run_readme(readme: Path, python: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    if not blocks:
        _fail(f"no python examples in {readme}")
    for number, block in enumerate(blocks, 1):
        with tempfile.TemporaryDirectory(prefix="readme-example-") as tmp:
            script = Path(tmp) / f"example_{number}.py"
            script.write_text(block)
            # -I: isolated mode, so neither the current folder nor PYTHONPATH can put
            # a source tree on the path; the installed package is what runs.
            result = subprocess.run(
                [python, "-I", str(script)], cwd=tmp, capture_output=True, text=True,
                timeout=300, check=False,
            )
        if result.returncode != 0:
            _fail(f"README example {number} failed ({result.returncode}):\n{result.stderr}")
        print(f"package check: README example {number} ran: "
              f"{len(result.stdout.splitlines())} line(s) of output")


def main(argv: list[str]) -> None:
    match argv:
        case ["contents", dist, src]:
            check_contents(Path(dist), Path(src))
        case ["readme", readme, python]:
            run_readme(Path(readme), python)
        case _:
            _fail(f"usage: check_dist.py contents DIST SRC | readme README PYTHON, got {argv}")


if __name__ == "__main__":
    main(sys.argv[1:])
