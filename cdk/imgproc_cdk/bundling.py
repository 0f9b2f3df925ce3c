"""The Lambda's code asset: imgproc and its locked dependencies, built with pip and without Docker.

Why local bundling: the function needs Pillow and pillow-heif, which are compiled. CDK's usual
answer is to run `pip install` inside a Lambda build image, which needs Docker (and QEMU for an
arm64 function on an x86_64 machine). pip can do the same on any host: our own pure-Python
wheel, then `pip install --target --platform manylinux_2_28_<arch> --only-binary=:all:` fetches
the dependencies as wheels built for the Lambda's OS and CPU, whatever the host is. Docker
stays only as CDK's fallback where the host has no usable pip.

Why a lock: the third-party packages come exactly from `cdk/requirements-lambda.lock`
(`python cdk/lock.py` writes it; docs/dependencies.md), installed `--no-deps --require-hashes`:
pip's hash-checking mode takes no version the lock does not name and no file whose sha256 it
does not list, so two synths of one commit ship the same code, whatever PyPI released in
between. The lock holds the hashes of every file of each pinned release, so the one file
serves the arm64 function and the x86_64 bundle test alike. imgproc itself is installed
`--no-deps` from the wheel built here. pyvips is published only as an sdist (pure Python; its
compiled part is the pyvips-binary wheel): the lock pins the sdist's hash, pip downloads and
checks it, and it is built here into a `py3-none-any` wheel in ABI mode (no compiler, no
libvips headers used), with the setuptools pinned in `cdk/requirements-lambda-build.lock`
(which also builds imgproc's wheel), so the built metadata does not drift with setuptools
releases either. Before installing, the lock is checked against pyproject's `dependencies`;
after it, every installed distribution's requirements must be met inside the bundle.

Why the asset hash comes from the output: the bundle is what the function runs, so its hash
changes exactly when a deployed file would (our code, or a new lock), and not when a test, a
notebook or the CDK app itself changes in the source tree. For the hash to be stable across
runs the bundle must be byte-for-byte repeatable, so `build_bundle` drops pip's
`direct_url.json` (it records the temporary path of our wheel, and RECORD its hash) and
`__pycache__`.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

try:  # `packaging` is in every dev install; pip (which local bundling needs anyway) vendors it
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:  # pragma: no cover
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

# Lambda architecture → (pip --platform tag, Docker --platform). Amazon Linux 2023 (the
# python3.12+ runtimes) has glibc 2.34; manylinux_2_28 also admits the older manylinux tags.
PLATFORMS = {
    "arm64": ("manylinux_2_28_aarch64", "linux/arm64"),
    "x86_64": ("manylinux_2_28_x86_64", "linux/amd64"),
}
# Never part of the function; kept out of the source fingerprint (cdk.out would even recurse).
EXCLUDE = [
    ".git", ".venv", "venv", "cdk.out", "node_modules", "imgproc-out", "tests", "bench",
    "examples", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".mypy_cache",
]
_USELESS_DIRS = ("bin",)  # console scripts; the function is imported, never run as a command
# Dependencies published only as an sdist of pure Python (pyvips: its compiled part is the
# separate pyvips-binary wheel). `--only-binary=:all:`, which a cross-platform install needs,
# refuses sdists, so these are built into wheels on the host first, from the locked sdist.
PURE_PYTHON_SDISTS = ("pyvips",)
# Relative to the project root. The runtime lock: every third-party package of the function,
# pinned with the sha256 of each of its files (`python cdk/lock.py` writes both).
LOCK_FILE = Path("cdk") / "requirements-lambda.lock"
# What builds our wheel and the sdists' wheels (setuptools), pinned the same way.
BUILD_LOCK_FILE = Path("cdk") / "requirements-lambda-build.lock"
LOCK_COMMAND = "python cdk/lock.py"
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the code; tracebacks name files there
CONFIG_IN_BUNDLE = "imgproc.toml"  # `-c config=FILE`, copied byte for byte


class BundlingError(Exception):
    """pip could not build or install the bundle (the message ends with pip's own output), or
    the lock does not fit pyproject.toml or the bundle."""


@dataclass(frozen=True)
class Pin:
    """One entry of a lock: `name==version` and the sha256 hashes its files may have."""

    name: str
    version: str
    hashes: tuple[str, ...]

    def requirement_line(self) -> str:
        return " ".join([f"{self.name}=={self.version}", *(f"--hash={h}" for h in self.hashes)])


def read_lock(path: Path, *, require_hashes: bool = True) -> dict[str, Pin]:
    """The pins of a `--generate-hashes` requirements file, by canonical name.

    Only what `cdk/lock.py` writes is accepted (`name==version` and `--hash=sha256:` options,
    comments): anything else, such as a range, a URL or an option that would change where pip
    looks, is an error rather than something the bundle would silently take.
    """
    text = Path(path).read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    pins: dict[str, Pin] = {}
    for number, raw in enumerate(logical.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        first, *options = line.split()
        found = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)", first)
        hashes = [o.removeprefix("--hash=") for o in options if o.startswith("--hash=sha256:")]
        if not found or len(hashes) != len(options) or (require_hashes and not hashes):
            raise BundlingError(f"{path}:{number}: expected `name==version --hash=sha256:...`, "
                                f"got {raw.strip()!r}; regenerate it with `{LOCK_COMMAND}`")
        key = canonicalize_name(found.group(1))
        if key in pins:
            raise BundlingError(f"{path}: {found.group(1)} is pinned twice")
        pins[key] = Pin(found.group(1), found.group(2), tuple(hashes))
    return pins


def target_environment(platform: str, python_version: str) -> dict[str, str]:
    """PEP 508 marker values of the Lambda runtime that `platform` and `python_version` name."""
    found = re.fullmatch(r"manylinux_2_\d+_(\w+)", platform)
    return {
        "implementation_name": "cpython", "implementation_version": f"{python_version}.0",
        "os_name": "posix", "platform_machine": found.group(1) if found else platform,
        "platform_python_implementation": "CPython", "platform_system": "Linux",
        "python_full_version": f"{python_version}.0", "python_version": python_version,
        "sys_platform": "linux", "platform_release": "", "platform_version": "", "extra": "",
    }


def _applies(requirement: Requirement, environment: dict[str, str]) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(environment)


def lock_problems(pyproject: Path, pins: dict[str, Pin],
                  environment: dict[str, str]) -> list[str]:
    """Where the lock disagrees with pyproject's runtime `dependencies` (empty: it agrees).

    Every dependency that applies on the target must be pinned at a version inside its range;
    the lock must not pin imgproc itself (it is built from the source), and every pin needs
    its hashes. What the pinned packages need in turn is checked on the installed bundle
    (`bundle_problems`) and, against PyPI's metadata, by tests/cdk/test_lock.py.
    """
    declared = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]
    problems = []
    for spec in declared.get("dependencies", []):
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            problems.append(f"pyproject.toml: {spec!r} is not a requirement: {exc}")
            continue
        if not _applies(requirement, environment):
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"pyproject.toml needs {spec}, which the lock does not pin")
        elif not requirement.specifier.contains(Version(pin.version), prereleases=True):
            problems.append(f"the lock pins {pin.name}=={pin.version}, outside pyproject's "
                            f"{spec}")
    if canonicalize_name(declared["name"]) in pins:
        problems.append(f"the lock pins {declared['name']} itself, which is built from source")
    return problems


def bundle_problems(output: Path, pins: dict[str, Pin], environment: dict[str, str],
                    own: str = "imgproc") -> list[str]:
    """Where the installed bundle differs from the lock, or misses what a package needs."""
    installed = {canonicalize_name(d.metadata["Name"]): d
                 for d in importlib.metadata.distributions(path=[str(output)])}
    problems = []
    for key, pin in sorted(pins.items()):
        dist = installed.get(key)
        if dist is None or dist.version != pin.version:
            problems.append(f"the lock pins {pin.name}=={pin.version}, the bundle has "
                            f"{dist.version if dist else 'nothing'}")
    for key, dist in sorted(installed.items()):
        if key not in pins and key != canonicalize_name(own):
            problems.append(f"the bundle has {dist.metadata['Name']}, which the lock lacks")
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if not _applies(requirement, environment):
                continue
            needed = installed.get(canonicalize_name(requirement.name))
            if needed is None:
                problems.append(f"{dist.metadata['Name']} needs {spec}, which neither the lock "
                                "nor the bundle has")
            elif not requirement.specifier.contains(Version(needed.version), prereleases=True):
                problems.append(f"{dist.metadata['Name']} needs {spec}, the bundle has "
                                f"{needed.version}")
    return problems


def build_bundle(output_dir: str | Path, *, project_root: Path,
                 platform: str = "manylinux_2_28_aarch64", python_version: str = "3.13",
                 python: str = sys.executable, config_file: Path | None = None,
                 lock_file: Path | None = None, build_lock_file: Path | None = None) -> None:
    """Install imgproc and the locked runtime dependencies for `platform` into `output_dir`,
    and the deployment's config file (if any) as `imgproc.toml` at the bundle's root.

    The wheel is built from a copy of the project's top-level files and `src/`, so the build
    neither writes `build/` or `*.egg-info` into the work tree nor picks up stale modules
    left in an old `build/lib`. The locks default to the project's own (`LOCK_FILE`,
    `BUILD_LOCK_FILE`).
    """
    root = Path(project_root)
    lock = Path(lock_file) if lock_file else root / LOCK_FILE
    build_lock = Path(build_lock_file) if build_lock_file else root / BUILD_LOCK_FILE
    for path in (lock, build_lock):
        if not path.is_file():
            raise BundlingError(f"no lock file {path}: write it with `{LOCK_COMMAND}`")
    pins = read_lock(lock)
    environment = target_environment(platform, python_version)
    problems = lock_problems(root / "pyproject.toml", pins, environment)
    if problems:
        raise BundlingError(f"{lock} does not fit pyproject.toml; regenerate it with "
                            f"`{LOCK_COMMAND}`:\n  " + "\n  ".join(problems))
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imgproc-bundle-") as tmp:
        work = Path(tmp)
        source = _copy_source(root, work / "source")
        wheels = work / "wheels"
        build_env = _build_environment(python, build_lock, work)
        _pip(python, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels),
             str(source), env=build_env)
        built = sorted(wheels.glob("imgproc-*.whl"))
        if len(built) != 1:
            raise BundlingError(f"expected one imgproc wheel in {wheels}, found {built}")
        lines = [f"{built[0]} --hash=sha256:{_sha256(built[0])}"]
        for key, pin in sorted(pins.items()):
            if key in PURE_PYTHON_SDISTS:  # built here: a pure-Python wheel fits every platform
                lines.append(_build_sdist_wheel(python, pin, wheels, work, build_env))
            else:
                lines.append(pin.requirement_line())
        requirements = work / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        platforms = [arg for tag in compatible_platforms(platform) for arg in ("--platform", tag)]
        _pip(python, "install", "--target", str(output), *platforms,
             "--implementation", "cp", "--python-version", python_version,
             "--only-binary=:all:", "--no-deps", "--require-hashes", "--find-links", str(wheels),
             "--no-compile", "--upgrade", "--quiet", "--requirement", str(requirements))
    _prune(output)
    problems = bundle_problems(output, pins, environment)
    if problems:
        raise BundlingError(f"the bundle in {output} does not match {lock}; regenerate it with "
                            f"`{LOCK_COMMAND}`:\n  " + "\n  ".join(problems))
    if config_file is not None:
        shutil.copyfile(config_file, output / CONFIG_IN_BUNDLE)
    compile_bytecode(output, python_version)


def _build_environment(python: str, build_lock: Path, work: Path) -> dict[str, str]:
    """The environment that builds wheels here: the locked setuptools first on the path, and a
    pkg-config that finds no libvips, so pyvips's setup.py cannot compile a host-only
    extension (API mode) and builds its pure-Python wheel (ABI mode) on every host."""
    tools, no_pkgconfig = work / "build-tools", work / "no-pkgconfig"
    no_pkgconfig.mkdir()
    _pip(python, "install", "--target", str(tools), "--no-deps", "--require-hashes",
         "--only-binary=:all:", "--no-compile", "--quiet", "--requirement", str(build_lock))
    env = dict(os.environ)
    env.update(PYTHONPATH=os.pathsep.join([str(tools), *filter(None, [env.get("PYTHONPATH")])]),
               PKG_CONFIG_LIBDIR=str(no_pkgconfig), PKG_CONFIG_PATH="",
               SOURCE_DATE_EPOCH=env.get("SOURCE_DATE_EPOCH", "315532800"))
    return env


def _build_sdist_wheel(python: str, pin: Pin, wheels: Path, work: Path,
                       env: dict[str, str]) -> str:
    """Download `pin`'s sdist (hash-checked against the lock), build it into a wheel in
    `wheels`, and return the requirement line that installs exactly that wheel."""
    request = work / f"{pin.name}-sdist.txt"
    request.write_text(pin.requirement_line() + "\n", encoding="utf-8")
    # --no-cache-dir: never a wheel pip built earlier from this sdist with other tools
    _pip(python, "wheel", "--no-deps", "--no-build-isolation", "--require-hashes",
         "--no-binary", pin.name, "--no-cache-dir", "--wheel-dir", str(wheels),
         "--requirement", str(request), env=env)
    stem = re.sub(r"[-_.]+", "_", pin.name).lower()
    built = sorted(p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{stem}-"))
    if len(built) != 1 or not built[0].name.endswith(f"-{pin.version}-py3-none-any.whl"):
        raise BundlingError(f"building {pin.name}=={pin.version} from its sdist gave "
                            f"{[p.name for p in built]}, not one pure-Python wheel")
    return f"{pin.name}=={pin.version} --hash=sha256:{_sha256(built[0])}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def compatible_platforms(platform: str) -> list[str]:
    """`platform` and every older manylinux tag a system with its glibc also runs.

    With `--platform`, pip takes exactly the tags it is given: asked for manylinux_2_28 only,
    it skips a wheel tagged manylinux_2_17 (cffi's), although the Lambda's glibc runs both.
    """
    found = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform)
    if not found:
        return [platform]
    newest, arch = int(found.group(1)), found.group(2)
    return [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)] + [
        f"manylinux2014_{arch}"]


def pip_available(python: str = sys.executable) -> bool:
    """Whether `python -m pip` runs at all (if not, local bundling is impossible)."""
    try:
        result = subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """CDK's local bundler: `build_bundle` on the host, Docker only if the host has no pip.

    A pip that runs but fails (no wheel for the platform, no network) raises: falling back to
    Docker would hide the real error behind "Docker not found", or build something else.
    """

    def __init__(self, project_root: Path, platform: str, python_version: str,
                 python: str = sys.executable, config_file: Path | None = None) -> None:
        self.project_root = Path(project_root)
        self.platform = platform
        self.python_version = python_version
        self.python = python
        self.config_file = config_file

    # jsii calls this with the output directory and the BundlingOptions struct positionally.
    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        if not pip_available(self.python):
            if self.config_file is not None:  # Docker sees the project only, not the file
                raise BundlingError(f"-c config needs local bundling, but {self.python} has "
                                    "no pip: install pip, or deploy without -c config.")
            print(f"imgproc: no pip in {self.python}; bundling with Docker", file=sys.stderr)
            return False
        build_bundle(output_dir, project_root=self.project_root, platform=self.platform,
                     python_version=self.python_version, python=self.python,
                     config_file=self.config_file)
        return True


def lambda_code(project_root: Path, *, architecture: str = "arm64",
                python_version: str = "3.13", config_file: Path | None = None) -> lambda_.Code:
    """The function's code asset for `architecture` ("arm64" or "x86_64"), with the config
    file when the deployment has one."""
    if architecture not in PLATFORMS:
        raise ValueError(f"architecture must be one of {sorted(PLATFORMS)}, not {architecture!r}")
    wheel_platform, docker_platform = PLATFORMS[architecture]
    return lambda_.Code.from_asset(
        str(project_root),
        asset_hash_type=AssetHashType.OUTPUT,
        exclude=EXCLUDE,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{python_version}"),
            command=["bash", "-c",
                     "pip install --no-compile -q --no-deps --require-hashes"
                     f" -r /asset-input/{LOCK_FILE.as_posix()} -t /asset-output"
                     " && pip install --no-compile -q --no-deps /asset-input -t /asset-output"
                     " && rm -rf /asset-output/bin"],
            platform=docker_platform,
            local=LocalPipBundling(Path(project_root), wheel_platform, python_version,
                                   config_file=config_file),
        ),
    )


def _copy_source(project_root: Path, dest: Path) -> Path:
    if not (project_root / "pyproject.toml").is_file():
        raise BundlingError(f"{project_root} has no pyproject.toml")
    dest.mkdir()
    for entry in project_root.iterdir():
        if entry.is_file():
            shutil.copy2(entry, dest / entry.name)
    shutil.copytree(project_root / "src", dest / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return dest


def _pip(python: str, *args: str, env: dict[str, str] | None = None) -> None:
    command = [python, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-30:])
        raise BundlingError(
            f"pip {args[0]} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")


def runtime_python(version: str) -> str | None:
    """A working `python{version}` on this machine (PATH, then pyenv's versions), or None."""
    pattern = str(Path.home() / ".pyenv" / "versions" / f"{version}*" / "bin" / f"python{version}")
    for candidate in [shutil.which(f"python{version}"), *sorted(glob.glob(pattern))]:
        if not candidate:
            continue
        try:
            probe = subprocess.run(
                [candidate, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False,
                timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def compile_bytecode(output: Path, python_version: str) -> None:
    """Ship the bundle byte-compiled for the runtime's Python.

    Lambda's /var/task is read-only, so Python cannot cache what it compiles: without .pyc
    files every cold start compiles botocore, Powertools, Pillow's and imgproc's sources again,
    about 0.8 s on top of a 0.3 s import. `unchecked-hash` pycs are used without looking at
    source timestamps, and paths are recorded as /var/task/..., so two builds of the same
    sources are byte-identical (the asset hash stays stable). It needs that Python itself
    (bytecode differs between minor versions); without one the bundle still works, slower.
    """
    python = runtime_python(python_version)
    if python is None:
        print(f"imgproc: no python{python_version} here to byte-compile the bundle with; "
              "it works without, but each Lambda cold start compiles it (~0.8 s)",
              file=sys.stderr)
        return
    result = subprocess.run(
        [python, "-m", "compileall", "-q", "-s", str(output), "-p", LAMBDA_TASK_ROOT,
         "--invalidation-mode", "unchecked-hash", str(output)],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:  # a file that cannot compile would fail at import too
        raise BundlingError(f"compileall failed for the bundle:\n{result.stdout[-2000:]}")


def _prune(output: Path) -> None:
    """Drop what a Lambda never uses and what would make two identical builds differ
    (pip's own bytecode included: `compile_bytecode` writes it reproducibly)."""
    for name in _USELESS_DIRS:
        shutil.rmtree(output / name, ignore_errors=True)
    for cache in [p for p in output.rglob("__pycache__") if p.is_dir()]:
        shutil.rmtree(cache, ignore_errors=True)
    for marker in output.glob("*.dist-info/direct_url.json"):  # names our temporary wheel
        marker.unlink()
        record = marker.with_name("RECORD")  # which lists it with its hash
        entry = f"{marker.parent.name}/{marker.name},"
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        record.write_text("".join(x for x in lines if not x.startswith(entry)), encoding="utf-8")
