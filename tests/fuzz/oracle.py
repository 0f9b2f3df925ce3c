"""What counts as a failure when fuzzing: the render and record contracts as checks.

For any input bytes, `render(data, Config())` either returns a Rendition whose every variant
decodes with Pillow to exactly its recorded size and format (within the format's size limit),
or raises `BadImage` with one clear sentence; a plain BadImage wrapping another exception
(render's catch-all) is reported too, as a path nobody anticipated. `process_object` on the
embedded store ends COMPLETE, PARTIAL or FAILED (never an exception), keeps records
consistent with what it reports, and never changes the original.

The upload's name is `input.jpg` unless the input is given another (`name`): for an image
format imgproc does not read (`input.bmp`, see `formats.UNREAD_IMAGE_FORMATS`), bytes that
render refuses as UnsupportedFormat must end FAILED UnsupportedFormat with a sentence that
names the format and its extension; bytes of a supported format under such a name render as
under any other, and any other refusal (an empty file) is the same as render's.

Each check returns a list of problems (empty: fine), so one input can report several.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import traceback
import warnings
from pathlib import Path

from PIL import Image

from imgproc.config import Config
from imgproc.errors import BadImage
from imgproc.formats import FORMATS, UNREAD_IMAGE_FORMATS
from imgproc.render import Rendition, render

PILLOW_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG", "avif": "AVIF"}
MAX_MESSAGE = 400
FUZZ_FOLDER = "uploads/fuzz/"
FUZZ_NAME = "input.jpg"  # the content decides the format; the name is any image's
FUZZ_KEY = FUZZ_FOLDER + FUZZ_NAME
# What a FAILED UnsupportedFormat sentence must call the unread formats the seeds hold (its
# extension too); any other unread extension: formats.UNREAD_IMAGE_FORMATS' label.
FORMAT_WORDS = {"bmp": "BMP", "ico": "ICO", "svg": "SVG", "ppm": "PPM", "psd": "PSD",
                "jxl": "JPEG XL", "tga": "TGA", "heics": "HEIF"}

# `<_io.BytesIO object at 0x7f...>`: a Python repr, different on every run, means nothing to a user
OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")

# outcome labels
RENDERED = "rendered"
BAD_IMAGE = "bad_image"
VIOLATION = "violation"


def unread_extension(name: str | None) -> str | None:
    """The extension of `name` (lower case) when it is an image format imgproc does not read."""
    if not name or "." not in name:
        return None
    extension = name.rsplit(".", 1)[1].lower()
    return extension if extension in UNREAD_IMAGE_FORMATS else None


def name_for(path: str | Path) -> str | None:
    """The upload name to judge a file under: `input.<ext>` for a file named after a format
    imgproc does not read (a saved finding, a regression file), else None (`input.jpg`)."""
    extension = unread_extension(Path(path).name)
    return f"input.{extension}" if extension else None


def named_format_problems(outcome, extension: str) -> list[str]:
    """A .bmp (...) whose bytes are no supported format: FAILED UnsupportedFormat, and the
    sentence says which format it is (a sentence about the content alone is not enough)."""
    if outcome.status != "FAILED" or outcome.error_type != "UnsupportedFormat":
        return [f"a .{extension} upload that is no supported format ended "
                f"{outcome.status} ({outcome.error_type}), not FAILED UnsupportedFormat"]
    words = (FORMAT_WORDS.get(extension, UNREAD_IMAGE_FORMATS[extension]), f".{extension}")
    absent = [word for word in words if word not in outcome.message]
    if absent:
        return [f"the UnsupportedFormat sentence of a .{extension} upload does not "
                f"name {' or '.join(absent)}: {outcome.message[:200]!r}"]
    return []


def sentence_problems(message: str, where: str) -> list[str]:
    """A clear one-sentence error: non-empty, one line, ends with '.', under 400 characters."""
    problems = []
    if not message.strip():
        problems.append(f"{where}: empty message")
    if "\n" in message or "\r" in message:
        problems.append(f"{where}: message spans lines: {message[:200]!r}")
    if not message.endswith("."):
        problems.append(f"{where}: message does not end with '.': {message[-120:]!r}")
    if len(message) >= MAX_MESSAGE:
        problems.append(f"{where}: message is {len(message)} characters long")
    if "Traceback" in message:
        problems.append(f"{where}: message holds a traceback")
    if OBJECT_REPR.search(message):
        problems.append(f"{where}: message holds a Python object repr: "
                        f"{OBJECT_REPR.search(message).group()}")
    return problems


def rendition_problems(rendition: Rendition, config: Config) -> list[str]:
    problems = []
    if rendition.width <= 0 or rendition.height <= 0:
        problems.append(f"rendition size {rendition.width}x{rendition.height}")
    if not rendition.placeholder.startswith("data:image/jpeg;base64,"):
        problems.append("placeholder is not a JPEG data URL")
    names = {variant.name for variant in config.variants}
    made = {variant.name for variant in rendition.variants}
    if made & set(rendition.failures):
        problems.append(f"variants both made and failed: {sorted(made & set(rendition.failures))}")
    if (made | set(rendition.failures)) != names:
        problems.append(f"variants missing from the rendition: {sorted(names - made)}")
    for variant in rendition.variants:
        problems += variant_problems(variant.name, variant.format, variant.width,
                                     variant.height, variant.data)
    return problems


def variant_problems(name: str, fmt: str, width: int, height: int, data: bytes) -> list[str]:
    """The bytes decode with Pillow to exactly the recorded size and format."""
    limit = FORMATS[fmt].max_side if fmt in FORMATS else None
    problems = []
    if limit and max(width, height) > limit:
        problems.append(f"{name}: {width}x{height} exceeds the {fmt} limit of {limit}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            image.load()
    except Exception as exc:
        return [*problems, f"{name}: output does not decode ({type(exc).__name__}: {exc})"]
    if image.format != PILLOW_FORMAT[fmt]:
        problems.append(f"{name}: recorded {fmt}, decodes as {image.format}")
    if image.size != (width, height):
        problems.append(f"{name}: recorded {width}x{height}, decodes as {image.width}x"
                        f"{image.height}")
    return problems


def check_render(data: bytes, config: Config | None = None) -> dict:
    """Render and judge: {"outcome", "errorType", "message", "problems", "variants", ...}."""
    config = config or Config()
    try:
        rendition = render(data, config)
    except BadImage as exc:
        message = str(exc)
        verdict = {"outcome": BAD_IMAGE, "errorType": exc.error_type, "message": message,
                   "problems": sentence_problems(message, f"BadImage {exc.error_type}")}
        cause = exc.__cause__
        if type(exc) is BadImage and cause is not None:
            # render's catch-all turned a library exception nobody anticipated into a failure:
            # a valid answer for the user, but a path no one designed (the picture may well
            # be fine), so the fuzzer reports it with the original traceback
            verdict["problems"].append(
                f"render wrapped an unexpected {type(cause).__name__}: {cause}"[:600])
            verdict["traceback"] = "".join(traceback.format_exception(cause, limit=12))
        return verdict
    except Exception as exc:  # anything else escaping render is a bug
        return {"outcome": VIOLATION, "errorType": type(exc).__name__,
                "message": f"{type(exc).__name__}: {exc}"[:1000],
                "problems": [f"render raised {type(exc).__name__} (not BadImage): {exc}"[:600]],
                "traceback": traceback.format_exc(limit=12)}
    problems = rendition_problems(rendition, config)
    return {"outcome": RENDERED, "variants": len(rendition.variants),
            "failures": dict(rendition.failures), "size": [rendition.width, rendition.height],
            "problems": problems}


def check_process(data: bytes, expected: dict | None = None, config: Config | None = None,
                  workdir: str | Path | None = None, name: str | None = None) -> dict:
    """`process_object` on a fresh embedded store, the upload named `name` (default
    input.jpg); `expected`: check_render's verdict, to which the outcome must correspond
    (FAILED with the same errorType for a BadImage, ...)."""
    from imgproc.core import Pipeline, process_object
    from imgproc.stores import DirectoryStore, SqliteRecordStore

    key = FUZZ_FOLDER + (name or FUZZ_NAME)
    root = Path(tempfile.mkdtemp(prefix="imgproc-fuzz-", dir=workdir))
    try:
        original = root / key
        original.parent.mkdir(parents=True)
        original.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        store = DirectoryStore(root)
        records = SqliteRecordStore(root / ".imgproc" / "metadata.db")
        pipeline = Pipeline(store, store, records, config or Config())
        try:
            outcome = process_object(pipeline, key)
        except Exception as exc:
            return {"status": "EXCEPTION", "problems": [
                f"process_object raised {type(exc).__name__}: {exc}"[:600]],
                "traceback": traceback.format_exc(limit=12)}
        problems = record_problems(outcome, store, records, key)
        if hashlib.sha256(original.read_bytes()).hexdigest() != digest:
            problems.append("the original's bytes changed")
        if expected is not None:
            problems += consistency_problems(outcome, expected, name)
        return {"status": outcome.status, "errorType": outcome.error_type,
                "problems": problems}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def record_problems(outcome, store, records, key: str = FUZZ_KEY) -> list[str]:
    problems = []
    if outcome.status not in ("COMPLETE", "PARTIAL", "FAILED"):
        return [f"process_object ended {outcome.status}: {outcome.message}"]
    record = records.get(key)
    if record is None:
        return [f"{outcome.status} without an image record"]
    if record.get("status") != outcome.status:
        problems.append(f"outcome {outcome.status} but the record says {record.get('status')}")
    if outcome.status == "FAILED":
        problems += sentence_problems(outcome.message, f"FAILED {outcome.error_type}")
        error = records.get(f"error#{key}")
        if error is None:
            problems.append("FAILED without an error# record")
        else:
            if error.get("error") != outcome.message:
                problems.append(f"error# says {error.get('error')!r}, outcome {outcome.message!r}")
            if error.get("errorType") != outcome.error_type:
                problems.append(f"error# type {error.get('errorType')}, outcome "
                                f"{outcome.error_type}")
        if record.get("error") != outcome.message:
            problems.append("the image record's error differs from the outcome's")
        return problems
    if records.get(f"error#{key}") is not None:
        problems.append(f"{outcome.status} but an error# record remains")
    listed = record.get("processedVariants") or []
    if not listed:
        problems.append(f"{outcome.status} with no variants listed")
    for entry in listed:
        info = store.get(entry["key"])
        if info is None:
            problems.append(f"listed variant {entry['key']} does not exist")
            continue
        if len(info.data) != entry.get("size"):
            problems.append(f"{entry['name']}: listed {entry.get('size')} bytes, stored "
                            f"{len(info.data)}")
        problems += variant_problems(entry["name"], entry["format"], entry["width"],
                                     entry["height"], info.data)
    if outcome.status == "PARTIAL" and not record.get("variantErrors"):
        problems.append("PARTIAL without variantErrors")
    return problems


def consistency_problems(outcome, expected: dict, name: str | None = None) -> list[str]:
    """The same bytes through render and through process_object must agree (except where
    the time budget ran out in one of them: how long a render takes is not deterministic).

    Under an unread format's name, render's UnsupportedFormat (which sees the bytes only)
    becomes a sentence naming that format."""
    if "TooSlow" in (expected.get("errorType"), outcome.error_type):
        return []
    extension = unread_extension(name)
    if extension and expected["outcome"] == BAD_IMAGE \
            and expected["errorType"] == "UnsupportedFormat":
        return named_format_problems(outcome, extension)
    if expected["outcome"] == BAD_IMAGE:
        if outcome.status != "FAILED" or outcome.error_type != expected["errorType"]:
            return [f"render raised {expected['errorType']} but process_object ended "
                    f"{outcome.status} ({outcome.error_type})"]
        if OBJECT_REPR.sub("<>", outcome.message) != OBJECT_REPR.sub("<>", expected["message"]):
            return ["render and process_object give different error sentences"]
        return []
    if expected["outcome"] == RENDERED:
        want = "FAILED" if not expected["variants"] else (
            "PARTIAL" if expected["failures"] else "COMPLETE")
        if outcome.status != want:
            return [f"render made {expected['variants']} variants but process_object ended "
                    f"{outcome.status}"]
    return []


def check_cli(data: bytes, expected: dict | None = None,
              workdir: str | Path | None = None, name: str | None = None) -> dict:
    """`imgproc --json process FILE --out DIR` (click's runner, in this process), the file
    named `name` (default input.jpg): exit 0 for COMPLETE and 1 otherwise, one JSON line,
    records.json agreeing, variants on disk."""
    from click.testing import CliRunner

    from imgproc.cli import main

    root = Path(tempfile.mkdtemp(prefix="imgproc-fuzz-cli-", dir=workdir))
    try:
        original = root / "in" / (name or FUZZ_NAME)
        original.parent.mkdir()
        original.write_bytes(data)
        out = root / "out"
        env = {name: None for name in ("IMGPROC_BUCKET", "IMGPROC_TABLE", "IMGPROC_STACK",
                                       "IMGPROC_CONFIG", "MAX_IMAGE_SIZE")}
        result = CliRunner(env=env).invoke(main, ["--json", "process", str(original),
                                                  "--out", str(out)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return {"status": "EXCEPTION", "problems": [
                f"imgproc process raised {type(result.exception).__name__}: "
                f"{result.exception}"[:600]]}
        problems = []
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        try:
            outcomes = [json.loads(line) for line in lines]
        except ValueError:
            return {"status": "BAD-OUTPUT", "problems": [
                f"--json stdout is not JSON lines: {result.stdout[:300]!r}"]}
        if len(outcomes) != 1:
            return {"status": "BAD-OUTPUT", "problems": [
                f"{len(outcomes)} JSON lines on stdout for one file"]}
        outcome = outcomes[0]
        status = outcome.get("outcome")
        if status not in ("COMPLETE", "PARTIAL", "FAILED"):
            problems.append(f"imgproc process ended {status}: {outcome.get('message')}")
        if result.exit_code != (0 if status == "COMPLETE" else 1):
            problems.append(f"exit code {result.exit_code} for a {status} outcome")
        if status == "FAILED":
            problems += sentence_problems(outcome.get("message", ""), "imgproc process FAILED")
        records = json.loads((out / "records.json").read_text(encoding="utf-8"))
        if [r.get("status") for r in records] != [status]:
            problems.append(f"records.json statuses {[r.get('status') for r in records]} for "
                            f"a {status} outcome")
        for record in records:
            for entry in record.get("processedVariants") or []:
                if not (out / entry["key"]).is_file():
                    problems.append(f"listed variant {entry['key']} is not in --out")
        if original.read_bytes() != data:
            problems.append("the input file changed")
        if expected is not None:
            problems += consistency_problems(_CliOutcome(outcome), expected, name)
        return {"status": status, "exit": result.exit_code, "problems": problems}
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _CliOutcome:
    """A `--json` outcome line, shaped like core's Outcome for `consistency_problems`."""

    def __init__(self, line: dict):
        self.status = line.get("outcome")
        self.error_type = line.get("errorType")
        self.message = line.get("message", "")
