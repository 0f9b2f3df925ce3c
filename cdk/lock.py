#!/usr/bin/env python3
"""Write the Lambda's hash-pinned locks from pyproject.toml (see docs/dependencies.md).

From the project root, with the dev install's uv (`pip install -e '.[dev]'`):

    python cdk/lock.py                        # add or drop what pyproject changed, keep the rest
    python cdk/lock.py --upgrade              # every package to its newest release in range
    python cdk/lock.py --upgrade-package pillow
    python cdk/lock.py --check                # change nothing; fail if the lock is stale

`cdk/requirements-lambda.lock` is resolved for the function (Python 3.13 on
manylinux_2_28_aarch64) with the sha256 of every file of each pinned release, so it also
serves the x86_64 bundle test; resolving for x86_64 must give the same pins, or this fails.
`cdk/requirements-lambda-build.lock` pins pyproject's [build-system] requirements
(setuptools), which build imgproc's wheel and pyvips's sdist in the bundle.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "cdk"))

from imgproc_cdk.bundling import (  # noqa: E402
    BUILD_LOCK_FILE,
    LOCK_COMMAND,
    LOCK_FILE,
    PLATFORMS,
    BundlingError,
    read_lock,
)

PYTHON_VERSION = "3.13"  # the function's runtime (cdk: Runtime.PYTHON_3_13)
# uv's names for the platforms of bundling.PLATFORMS; the first is the deployed one
UV_PLATFORMS = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
BUILD_PYTHON_VERSION = "3.11"  # the oldest Python the CDK app (which builds the wheels) runs on
assert set(UV_PLATFORMS) == set(PLATFORMS)


class LockError(Exception):
    """uv failed, or the platforms resolve to different pins."""


def _uv(*args: str, cwd: Path, stdin: str | None = None) -> None:
    command = [sys.executable, "-m", "uv", "pip", "compile", *args, "--quiet",
               "--custom-compile-command", LOCK_COMMAND]
    result = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise LockError(f"{' '.join(command)} failed:\n{result.stderr.strip()[-3000:]}")


def resolve(root: Path, output: Path, architecture: str = "arm64", *, hashes: bool = True,
            offline: bool = False, extra: tuple[str, ...] = ()) -> None:
    """Resolve `root`'s pyproject.toml runtime dependencies for the function's Python on
    `architecture` into `output`. As with pip-compile, pins already in `output` are kept while
    they still fit (unless `extra` holds --upgrade...)."""
    args = ["pyproject.toml", "--python-version", PYTHON_VERSION,
            "--python-platform", UV_PLATFORMS[architecture], "--output-file", str(output)]
    _uv(*args, *(["--generate-hashes"] if hashes else []), *(["--offline"] if offline else []),
        *extra, cwd=root)


def resolve_build(root: Path, output: Path, *, offline: bool = False,
                  extra: tuple[str, ...] = ()) -> None:
    """Pin pyproject's [build-system] requires (with hashes) into `output`."""
    requires = tomllib.loads((root / "pyproject.toml").read_text())["build-system"]["requires"]
    _uv("-", "--python-version", BUILD_PYTHON_VERSION, "--generate-hashes", "--output-file",
        str(output), *(["--offline"] if offline else []), *extra, cwd=root,
        stdin="\n".join(requires) + "\n")


def pins_of(lock: Path) -> dict[str, str]:
    return {key: pin.version for key, pin in read_lock(lock, require_hashes=False).items()}


def differences(root: Path, lock: Path, architecture: str = "arm64", *,
                offline: bool = False) -> list[str]:
    """How resolving `root`'s pyproject.toml for `architecture`, starting from `lock`'s pins,
    differs from `lock` (empty: the lock is exactly what pyproject resolves to). A pin outside
    its range, a dependency added to or dropped from pyproject, and a package that a pinned
    one needs but the lock lacks all show up here."""
    with tempfile.TemporaryDirectory(prefix="imgproc-lock-") as tmp:
        again = Path(tmp) / f"{architecture}.txt"
        again.write_bytes(Path(lock).read_bytes())  # start from the lock's pins
        resolve(root, again, architecture, hashes=False, offline=offline)
        mine, theirs = pins_of(lock), pins_of(again)
    return [f"{architecture}: {name} is {mine.get(name) or 'missing'} in the lock, "
            f"{theirs.get(name) or 'not needed'} resolved"
            for name in sorted(mine.keys() | theirs.keys()) if mine.get(name) != theirs.get(name)]


def platform_differences(root: Path, lock: Path, *, offline: bool = False) -> list[str]:
    """What the other architectures resolve to differently from `lock` (empty: nothing)."""
    return [line for architecture in list(UV_PLATFORMS)[1:]
            for line in differences(root, lock, architecture, offline=offline)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest releases in range")
    parser.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail if the locks are not what pyproject gives")
    options = parser.parse_args(argv)
    if options.check:
        try:
            found = [line for architecture in UV_PLATFORMS
                     for line in differences(ROOT, ROOT / LOCK_FILE, architecture)]
        except (LockError, BundlingError) as exc:
            print(f"lock: {exc}", file=sys.stderr)
            return 1
        if found:
            print(f"lock: {LOCK_FILE} is out of date; run `{LOCK_COMMAND}`:\n  "
                  + "\n  ".join(found), file=sys.stderr)
            return 1
        print(f"{LOCK_FILE}: what pyproject.toml resolves to")
        return 0
    extra = (*(["--upgrade"] if options.upgrade else []),
             *(arg for name in options.upgrade_package for arg in ("--upgrade-package", name)))
    try:
        resolve(ROOT, ROOT / LOCK_FILE, extra=extra)
        resolve_build(ROOT, ROOT / BUILD_LOCK_FILE, extra=extra)
        mismatched = platform_differences(ROOT, ROOT / LOCK_FILE)
    except (LockError, BundlingError) as exc:
        print(f"lock: {exc}", file=sys.stderr)
        return 1
    if mismatched:
        print("lock: the platforms need different pins, which one lock cannot hold:\n  "
              + "\n  ".join(mismatched), file=sys.stderr)
        return 1
    for path in (LOCK_FILE, BUILD_LOCK_FILE):
        pins = read_lock(ROOT / path)
        print(f"{path}: " + ", ".join(f"{p.name}=={p.version}" for p in pins.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
