"""`process --html`: one static page showing every original beside its variants.

Plain HTML with relative links, so it opens from disk (file://) with no server. Each original
is shown through the `<imgproc-image>` web component, as a web app would show it; its manifest
is inlined because browsers do not let pages opened from disk fetch files.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from urllib.parse import quote

from .manifest import manifest_of
from .server import component_source

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgproc contact sheet</title>
<script src="imgproc-image.js" defer></script>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }}
h1 {{ font-size: 1.4rem; }}
section {{ border-top: 1px solid #ddd; padding: 1rem 0; }}
h2 {{ font-size: 1rem; margin: 0 0 .5rem; word-break: break-all; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; }}
figure {{ margin: 0; }}
figure img {{ display: block; max-width: 240px; max-height: 240px; background-size: cover; }}
imgproc-image {{ width: 320px; }}
figcaption {{ color: #555; font-size: 12px; }}
.status-FAILED {{ color: #b00020; }} .status-PARTIAL {{ color: #a66300; }}
.swatch {{ display: inline-block; width: 1em; height: 1em; vertical-align: middle;
           border: 1px solid #999; }}
</style>
</head>
<body>
<h1>imgproc contact sheet: {count} original(s)</h1>
{sections}
</body>
</html>
"""


def write_contact_sheet(out_dir: Path, records: list[dict], sources: dict[str, Path]) -> Path:
    sections = "\n".join(_section(out_dir, record, sources.get(record["id"])) for record in records)
    (out_dir / "imgproc-image.js").write_bytes(component_source())
    path = out_dir / "index.html"
    path.write_text(_PAGE.format(count=len(records), sections=sections), encoding="utf-8")
    return path


def _section(out_dir: Path, record: dict, source: Path | None) -> str:
    status = record.get("status", "")
    dims = record.get("originalDimensions") or {}
    label = escape(status)
    heading = f"{escape(record['id'])} <span class='status-{label}'>{label}</span>"
    facts = []
    if dims:
        facts.append(f"{dims['width']}×{dims['height']} {escape(record.get('format') or '')}")
    if record.get("dominantColor"):
        colour = escape(record["dominantColor"])
        facts.append(f"<span class='swatch' style='background:{colour}'></span> {colour}")
    if record.get("error"):
        facts.append(f"<strong>{escape(record['error'])}</strong>")
    figures = [_component(record)]
    if source is not None:
        link = escape(quote(_relative(source, out_dir)))
        figures.append(f"<figure><a href='{link}'>original</a>"
                       f"<figcaption>{record.get('size', 0):,} bytes</figcaption></figure>")
    if record.get("placeholder"):
        figures.append(_figure(record["placeholder"], "placeholder", width=80))
    for variant in record.get("processedVariants", []):
        caption = (f"{escape(variant['name'])}: {variant['width']}×{variant['height']} "
                   f"{escape(variant['format'])}, {variant['size']:,} B")
        figures.append(_figure(quote(variant["key"]), caption))
    return (f"<section><h2>{heading}</h2><p>{' · '.join(facts)}</p>"
            f"<div class='row'>{''.join(figures)}</div></section>")


def _component(record: dict) -> str:
    manifest = json.dumps(manifest_of(record), ensure_ascii=False).replace("</", "<\\/")
    return (f"<figure><imgproc-image src-key='{escape(record['id'])}' cdn='.' "
            f"alt='{escape(record['id'])}' sizes='320px'>"
            f"<script type='application/json'>{manifest}</script></imgproc-image>"
            f"<figcaption>as &lt;imgproc-image&gt; shows it</figcaption></figure>")


def _figure(src: str, caption: str, width: int | None = None) -> str:
    size = f" width='{width}'" if width else ""
    return (f"<figure><img src='{escape(src)}' alt='{caption}' loading='lazy'{size}>"
            f"<figcaption>{caption}</figcaption></figure>")


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_uri()
