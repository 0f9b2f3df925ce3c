"""examples/react: a React 19 app's use of <imgproc-image>, type-checked and rendered.

`npm ci` installs the example's pinned TypeScript and React into a copy of it (outside the work
tree); `tsc -p` type-checks it (and emits it to a temp dir);
a file of deliberate mistakes shows the element's JSX types reject them; react-dom/server renders
the wrapper in node and the element's attributes are read back from the HTML.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.requirements import missing

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "react"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (Debian: apt-get install nodejs npm)")
    return path


def run(args: list[str], cwd: Path, expect_ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    if expect_ok and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the example with its pinned packages installed (`npm ci`), outside the work
    tree: a node_modules under examples/ would be walked by `imgproc process examples`."""
    npm = tool("npm")
    copy = tmp_path_factory.mktemp("react-example")
    for path in EXAMPLE.iterdir():
        if path.is_file():
            shutil.copy2(path, copy / path.name)
    run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], copy)
    return copy


@pytest.fixture(scope="module")
def tsc(project) -> list[str]:
    return [tool("node"), str(project / "node_modules" / "typescript" / "bin" / "tsc")]


def linked(directory: Path, project: Path) -> Path:
    """`directory`, where `import "react"` finds the example's node_modules."""
    (directory / "node_modules").symlink_to(project / "node_modules", target_is_directory=True)
    return directory


class StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_example_type_checks_and_renders_on_the_server(tsc, project, tmp_path):
    out = linked(tmp_path, project) / "out"
    run([*tsc, "-p", str(project), "--noEmit", "false", "--outDir", str(out)], project)
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    (tmp_path / "render.js").write_text(
        'import { createElement } from "react";\n'
        'import { renderToString } from "react-dom/server";\n'
        'import { ImgprocImage } from "./out/ImgprocImage.js";\n'
        "const props = { ...JSON.parse(process.argv[2]), onComplete() {}, onFailure() {} };\n"
        "process.stdout.write(renderToString(createElement(ImgprocImage, props)));\n")
    props = {"srcKey": "uploads/u1/photo 1.jpg", "cdn": "https://d111.cloudfront.net",
             "alt": 'Terns & "gulls"', "timeout": 30}
    html = run([tool("node"), "render.js", json.dumps(props)], tmp_path).stdout

    tags = StartTags()
    tags.feed(html)
    assert html.startswith("<imgproc-image "), html
    # As given; sizes is left out (undefined) and the handlers (functions) are not attributes.
    assert tags.found == [("imgproc-image", {
        "src-key": "uploads/u1/photo 1.jpg", "cdn": "https://d111.cloudfront.net",
        "alt": 'Terns & "gulls"', "timeout": "30"})], html


MISTAKES = """\
export const checked = [
  <imgproc-image src-key="a" onimgproc-state={(event) => event.detail.state === "error"} />,
  <imgproc-imag src-key="a" />,
  <imgproc-image src-key={42} />,
  <imgproc-image cdn="https://d111.cloudfront.net" />,
  <imgproc-image src-key="a" timeout="60s" />,
  <imgproc-image src-key="a" onImgprocState={() => {}} />,
];
"""


def test_element_types_reject_mistakes(tsc, project, tmp_path):
    """Line 2 is right (its event is typed, or strict would refuse the untyped parameter); each
    later line has one mistake: a misspelt element, a number for src-key, no src-key, a string
    for timeout, a camelCase event prop (React would listen for "ImgprocState"). A misspelt
    dashed attribute (src-kee) is not one: TypeScript lets any unknown dashed name through."""
    linked(tmp_path, project)
    (tmp_path / "mistakes.tsx").write_text(MISTAKES)
    (tmp_path / "tsconfig.json").write_text(json.dumps({
        "extends": str(project / "tsconfig.json"),
        "compilerOptions": {"skipLibCheck": True},  # the example's own check covers the .d.ts
        "include": [], "files": [str(project / "imgproc-image.d.ts"), "mistakes.tsx"]}))
    done = run([*tsc, "-p", str(tmp_path)], tmp_path, expect_ok=False)
    errors = re.findall(r"^mistakes\.tsx\((\d+),\d+\): error (TS\d+)", done.stdout, re.M)
    assert done.returncode != 0
    assert [(int(line), code) for line, code in errors] == [
        (3, "TS2339"), (4, "TS2322"), (5, "TS2322"), (6, "TS2322"), (7, "TS2322")], done.stdout
    assert "Did you mean '\"onimgproc-state\"'?" in done.stdout


def test_readme_quotes_the_checked_usage():
    """examples/react/README.md's snippet is lines of ImgprocImage.tsx, so tsc checks it."""
    readme = (EXAMPLE / "README.md").read_text()
    snippet = re.search(r"```tsx\n(.*?)```", readme, re.S)
    assert snippet, "README.md has no ```tsx block"
    assert snippet[1] in (EXAMPLE / "ImgprocImage.tsx").read_text()
