"""The Lambda's code asset: imgproc and its dependencies, built with pip and without Docker.

Why local bundling: the function needs Pillow and pillow-heif, which are compiled. CDK's usual
answer is to run `pip install` inside a Lambda build image, which needs Docker (and QEMU for an
arm64 function on an x86_64 machine). pip can do the same on any host: our own pure-Python
wheel, then `pip install --target --platform manylinux_2_28_<arch> --only-binary=:all:` fetches
the dependencies as wheels built for the Lambda's OS and CPU, whatever the host is. Docker
stays only as CDK's fallback where the host has no usable pip.

Why the asset hash comes from the output: the bundle is what the function runs, so its hash
changes exactly when a deployed file would (our code, or a newly resolved dependency release),
and not when a test, a notebook or the CDK app itself changes in the source tree. For the hash
to be stable across runs the bundle must be byte-for-byte repeatable, so `build_bundle` drops
pip's `direct_url.json` (it records the temporary path of our wheel, and RECORD its hash)
and `__pycache__`.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

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
# refuses sdists, so these are built into wheels on the host first.
PURE_PYTHON_SDISTS = ("pyvips",)
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the code; tracebacks name files there
CONFIG_IN_BUNDLE = "imgproc.toml"  # `-c config=FILE`, copied byte for byte


class BundlingError(Exception):
    """pip could not build or install the bundle; the message ends with pip's own output."""


def build_bundle(output_dir: str | Path, *, project_root: Path,
                 platform: str = "manylinux_2_28_aarch64", python_version: str = "3.13",
                 python: str = sys.executable, config_file: Path | None = None) -> None:
    """Install imgproc and its runtime dependencies for `platform` into `output_dir`, and the
    deployment's config file (if any) as `imgproc.toml` at the bundle's root.

    The wheel is built from a copy of the project's top-level files and `src/`, so the build
    neither writes `build/` or `*.egg-info` into the work tree nor picks up stale modules
    left in an old `build/lib`.
    """
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imgproc-bundle-") as tmp:
        source = _copy_source(Path(project_root), Path(tmp) / "source")
        wheels = Path(tmp) / "wheels"
        _pip(python, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source))
        built = sorted(wheels.glob("imgproc-*.whl"))
        if len(built) != 1:
            raise BundlingError(f"expected one imgproc wheel in {wheels}, found {built}")
        pure = _requirements(source, PURE_PYTHON_SDISTS)
        if pure:  # built here: a pure-Python wheel fits every platform
            _pip(python, "wheel", "--no-deps", "--wheel-dir", str(wheels), *pure)
        platforms = [arg for tag in compatible_platforms(platform) for arg in ("--platform", tag)]
        _pip(python, "install", "--target", str(output), *platforms,
             "--implementation", "cp", "--python-version", python_version,
             "--only-binary=:all:", "--find-links", str(wheels), "--no-compile", "--upgrade",
             "--quiet", str(built[0]))
    _prune(output)
    if config_file is not None:
        shutil.copyfile(config_file, output / CONFIG_IN_BUNDLE)
    compile_bytecode(output, python_version)


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
            command=["bash", "-c", "pip install --no-compile -q /asset-input -t /asset-output"
                     " && rm -rf /asset-output/bin"],
            platform=docker_platform,
            local=LocalPipBundling(Path(project_root), wheel_platform, python_version,
                                   config_file=config_file),
        ),
    )


def _requirements(source: Path, names: tuple[str, ...]) -> list[str]:
    """The project's own requirement strings (with their version ranges) for `names`."""
    declared = tomllib.loads((source / "pyproject.toml").read_text())["project"]["dependencies"]
    return [spec for spec in declared if re.match(r"[\w.-]+", spec).group() in names]


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


def _pip(python: str, *args: str) -> None:
    command = [python, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
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
