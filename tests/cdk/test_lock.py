"""The Lambda's lock agrees with pyproject.toml, and a drifted copy of either is caught.

Two checks, each shown failing on a deliberately drifted copy in a tmp dir:
- offline, by name and range: every runtime dependency of pyproject.toml is pinned, at a
  version inside its range (what `build_bundle` itself checks before it installs anything);
- against PyPI's metadata, with the uv that wrote the lock: resolving pyproject.toml again,
  starting from the lock's pins, gives exactly the lock, for arm64 and for x86_64, so a
  package that a pinned one needs but the lock lacks, or a pin nothing needs, fails too.
  Only the first resolution goes to the index; the others reuse uv's cache (--offline).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import lock as locking
import pytest
from imgproc_cdk.bundling import (
    BUILD_LOCK_FILE,
    LOCK_FILE,
    PLATFORMS,
    BundlingError,
    Requirement,
    Version,
    lock_problems,
    read_lock,
    target_environment,
)

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / LOCK_FILE
ENVIRONMENTS = {arch: target_environment(platform, locking.PYTHON_VERSION)
                for arch, (platform, _docker) in PLATFORMS.items()}


def drifted_project(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the project's pyproject.toml with `old` replaced by `new`."""
    text = (REPO / "pyproject.toml").read_text()
    assert text.count(old) == 1, old
    root = tmp_path / "project"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(text.replace(old, new))
    return root


def drifted_lock(tmp_path: Path, drop: str) -> Path:
    """A copy of the lock without `drop`'s entry (its pin, hashes and annotations)."""
    text = RUNTIME.read_text()
    entry = re.compile(rf"^{re.escape(drop)}==.*?(?=^[a-z0-9]|\\Z)", re.M | re.S)
    assert len(entry.findall(text)) == 1, drop
    copy = tmp_path / "drifted.lock"
    copy.write_text(entry.sub("", text))
    return copy


@pytest.mark.parametrize("arch", sorted(PLATFORMS))
def test_every_runtime_dependency_is_pinned_inside_its_range(arch):
    pins = read_lock(RUNTIME)
    assert lock_problems(REPO / "pyproject.toml", pins, ENVIRONMENTS[arch]) == []
    assert all(pin.hashes for pin in pins.values())
    # the floors this lock exists to enforce (docs/dependencies.md)
    assert Version(pins["pillow"].version) >= Version("13.0")
    assert Version(pins["pillow-heif"].version) >= Version("1.8.1")
    assert Version(pins["pyvips-binary"].version) >= Version("8.18.3")


def test_a_drifted_pyproject_or_lock_fails_the_offline_check(tmp_path):
    pins, env = read_lock(RUNTIME), ENVIRONMENTS["arm64"]
    # a floor above the pinned release
    raised = drifted_project(tmp_path / "a", '"pillow>=13.0,<14"', '"pillow>=13.9,<14"')
    assert lock_problems(raised / "pyproject.toml", pins, env) == [
        f"the lock pins pillow=={pins['pillow'].version}, outside pyproject's pillow>=13.9,<14"]
    # a new dependency the lock has never heard of
    added = drifted_project(tmp_path / "b", '"click>=8.1,<9",', '"click>=8.1,<9",\n'
                            '    "requests>=2.31,<3",')
    assert lock_problems(added / "pyproject.toml", pins, env) == [
        "pyproject.toml needs requests>=2.31,<3, which the lock does not pin"]
    # a lock that lost a direct dependency
    lost = read_lock(drifted_lock(tmp_path, "boto3"))
    assert lock_problems(REPO / "pyproject.toml", lost, env) == [
        "pyproject.toml needs boto3>=1.34,<2, which the lock does not pin"]


def test_a_lock_entry_without_hashes_or_with_a_range_is_refused(tmp_path):
    unhashed = tmp_path / "unhashed.lock"
    unhashed.write_text("six==1.17.0\n")
    with pytest.raises(BundlingError, match="expected `name==version --hash=sha256"):
        read_lock(unhashed)
    ranged = tmp_path / "ranged.lock"
    ranged.write_text("six>=1.16 --hash=sha256:" + "0" * 64 + "\n")
    with pytest.raises(BundlingError, match="expected `name==version"):
        read_lock(ranged)


def test_the_lock_is_what_pyproject_resolves_to_and_drift_is_caught(tmp_path):
    # GIVEN the lock as committed: resolving pyproject again gives it back, on both targets
    # (each platform's first resolution asks the index and fills uv's cache with that
    # platform's wheels; offline, a cache filled for arm64 alone cannot resolve x86_64)
    assert locking.differences(REPO, RUNTIME, "arm64") == []
    assert locking.differences(REPO, RUNTIME, "x86_64") == []
    # WHEN the lock lacks a package only a pinned one needs (boto3 → jmespath) THEN it fails,
    # although the offline check, which sees only pyproject's direct dependencies, passes
    lacking = drifted_lock(tmp_path, "jmespath")
    assert lock_problems(REPO / "pyproject.toml", read_lock(lacking),
                         ENVIRONMENTS["arm64"]) == []
    jmespath = read_lock(RUNTIME)["jmespath"].version
    assert locking.differences(REPO, lacking, "arm64", offline=True) == [
        f"arm64: jmespath is missing in the lock, {jmespath} resolved"]
    # AND a pyproject that dropped a dependency leaves its pins unneeded
    dropped = drifted_project(tmp_path, '    "rich>=13.7,<15",\n', "")
    found = locking.differences(dropped, RUNTIME, "arm64", offline=True)
    assert f"arm64: rich is {read_lock(RUNTIME)['rich'].version} in the lock, not needed " \
           "resolved" in found, found


def test_the_build_lock_pins_the_build_system():
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    pins = read_lock(REPO / BUILD_LOCK_FILE)
    for spec in map(Requirement, requires):
        pin = pins[spec.name]
        assert spec.specifier.contains(Version(pin.version)), (spec, pin)
    # setuptools alone: without cffi and pkgconfig, pyvips's setup.py builds its pure wheel
    assert sorted(pins) == ["setuptools"]
