"""`imgproc process FILE_OR_DIR... [--out DIR] [--html]`: render local files, no AWS.

The output directory is an embedded store like any other (variants under `processed/`,
records in `.imgproc/metadata.db`), plus `records.json` and, with `--html`, `index.html`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import click

from ..core import process_many
from ..errors import ConfigError
from ..keys import is_candidate
from ..stores import DirectoryStore, SqliteRecordStore
from ..stores.directory import META_DIR
from ..web.contact_sheet import write_contact_sheet
from .app import App, exit_with, json_option, pass_app, wants_json
from .console import emit_json, exit_code, note, out, outcome_table, progress, summary


@click.command()
@click.argument("inputs", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="./imgproc-out", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where variants, records.json and index.html go.")
@click.option("--html", is_flag=True, help="Also write an index.html contact sheet.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Originals processed at once.")
@json_option
@pass_app
def process(app: App, inputs, out_dir: Path, html: bool, workers: int,
            json_here: bool) -> None:
    """Render local files (or every image under a directory) into OUT."""
    as_json = wants_json(app, json_here)
    out_dir = out_dir.absolute()
    groups = collect_inputs(inputs, out_dir)
    outputs = DirectoryStore(out_dir)
    records = SqliteRecordStore(out_dir / META_DIR / "metadata.db")
    total = sum(len(keys) for keys in groups.values())
    outcomes, sources = [], {}
    with progress(total, "processing", enabled=not as_json) as advance:
        for root, keys in groups.items():
            pipeline = app.pipeline(originals=DirectoryStore(root), outputs=outputs,
                                    records=records)
            for outcome in process_many(pipeline, keys, workers=workers, force=True,
                                        on_outcome=lambda _: advance()):
                outcomes.append(outcome)
                sources[outcome.key] = root / outcome.key
                if as_json:
                    emit_json(outcome.to_json())
    produced = [o.record for o in outcomes if o.record is not None]
    (out_dir / "records.json").write_text(
        json.dumps(produced, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if html:
        write_contact_sheet(out_dir, produced, sources)
    if not as_json:
        out.print(outcome_table(outcomes))
        out.print(summary(outcomes))
        where = ", index.html" if html else ""
        out.print(f"Results: {out_dir}/ (variants under processed/, records.json{where})")
    elif not outcomes:
        note("No image files found.")
    exit_with(exit_code(outcomes))


def collect_inputs(inputs, out_dir: Path) -> dict[Path, list[str]]:
    """Each FILE is keyed by its name, each file under a DIR by its path relative to DIR."""
    groups: dict[Path, list[str]] = defaultdict(list)
    seen: dict[str, Path] = {}
    for given in inputs:
        path = Path(given).absolute()
        if path.is_dir():
            root, keys = path, _image_files(path, out_dir)
        else:
            root, keys = path.parent, [path.name]
        for key in keys:
            if key in seen and seen[key] != root / key:
                raise ConfigError(
                    f"Two inputs would share the key {key!r} ({seen[key]} and {root / key}); "
                    "process them in separate runs or from a common parent directory."
                )
            if key not in seen:
                seen[key] = root / key
                groups[root].append(key)
    return groups


def _image_files(directory: Path, out_dir: Path) -> list[str]:
    """Candidate files below `directory`, skipping hidden files and folders (imgproc's own
    `.imgproc` among them: `.gitignore` and `.DS_Store` are never uploads) and the output."""
    return sorted(
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and not path.is_relative_to(out_dir)
        and is_candidate(path.name)
    )
