"""The package's shape, as a newcomer relies on it: modules load on their own, nothing imports
upward, and `imgproc --help` needs no AWS SDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import imgproc

PACKAGE = Path(imgproc.__file__).parent

# Lower layers never import higher ones; a module may import its own layer and below.
LAYERS = {
    "errors": 0, "formats": 0, "envvars": 0, "config": 0, "keys": 0, "records": 0,
    "outcome": 0, "telemetry": 0, "focal": 0,
    "aws": 1,
    "stores": 2, "render": 2,
    "web": 3,
    "core": 4,
    "wiring": 5,
    "cli": 6, "lambda_handler": 6,
}
COMMAND_MODULES = sorted(p.stem for p in (PACKAGE / "cli").glob("*.py")
                         if p.stem not in {"__init__", "app", "main", "console"})


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_every_package_module_is_in_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert tops == set(LAYERS)


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_each_command_module_imports_on_its_own(name):
    """No cycle through the group: a command module loads in a fresh interpreter."""
    result = _python(f"import imgproc.cli.{name} as m; print(m.__name__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imgproc.cli.{name}"


def test_every_command_is_registered():
    from imgproc.cli.main import COMMANDS, main

    assert {c.name for c in COMMANDS} == set(main.commands)
    assert {c.callback.__module__.rsplit(".", 1)[-1] for c in COMMANDS} == set(COMMAND_MODULES)


def test_cli_and_help_import_no_aws_sdk():
    """`imgproc --help` (and every command's `--help`) loads neither boto3 nor botocore."""
    result = _python("import imgproc.cli", "-X", "importtime")
    assert result.returncode == 0, result.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "imgproc.cli.main" in imported
    assert not [m for m in imported if m.split(".")[0] in {"boto3", "botocore"}]
    helps = "; ".join(f"run(['{c}', '--help'])" for c in COMMAND_MODULES)
    code = ("import sys\nfrom imgproc.cli import main\n"
            "def run(args):\n"
            "    try: main(args, prog_name='imgproc', standalone_mode=False)\n"
            "    except SystemExit: pass\n"
            f"run(['--help']); {helps}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'}))")
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert "Usage: imgproc [OPTIONS] COMMAND" in result.stdout
    assert all(f"Usage: imgproc {name} " in result.stdout for name in COMMAND_MODULES)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[1]]


def _module_of(path: Path) -> str:
    return "imgproc." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every imgproc import outside `if TYPE_CHECKING:` blocks."""
    is_package = module.endswith(".__init__")
    module = module.removesuffix(".__init__")
    package = module if is_package else module.rsplit(".", 1)[0]
    tree = ast.parse(source)
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names if n.startswith("imgproc.")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name.startswith("imgproc.")]
    return found


def _upward(source: str, module: str) -> list[str]:
    return [f"{module}:{line} imports {target}" for line, target in _imports(source, module)
            if _layer(target) > _layer(module)]


def test_nothing_imports_upward():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        upward += _upward(path.read_text(encoding="utf-8"), _module_of(path))
    assert upward == []


def test_the_layer_check_sees_an_upward_import():
    """The check above can fail: keys.py importing the CLI, or records.py the core, is caught
    (and an import only for type checking is not)."""
    keys = (PACKAGE / "keys.py").read_text(encoding="utf-8")
    assert _upward(keys + "\nfrom .cli import main\n", "imgproc.keys")
    assert _upward("from ..core import Pipeline\n", "imgproc.stores.s3")
    assert not _upward("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                       "    from .core import Pipeline\n", "imgproc.records")
