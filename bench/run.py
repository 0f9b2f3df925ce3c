"""The one benchmark command: imgproc beside a naive Pillow script and the reference it replaces.

    python bench/run.py [PHOTO ...] [--runs 5] [--no-reference] [--no-corpus] [--json FILE]

Photos: every file in ../shared/corpus/ (beside the repository) plus any given. For each, in
fresh processes (bench/worker.py, bench/reference/reference.js --single-thread): imgproc's
render (default config), the same with JPEG at effort 3 (baseline, no progressive step), the
same with examples/config/avif.toml, the full process_object on the embedded store, a naive
Pillow pipeline, and the Node.js + sharp 0.33.2 reference, each `--runs` times; SSIM of every
variant against a lossless high-quality rendering (bench/truth.py). Photos stored turned (EXIF
orientation 5-8) are marked. Then the Lambda cold start beside the reference's module init, a
100-megapixel JPEG's peak RSS, and the Lambda cost per million images.

Targets (issue 14), as medians over the shared photos of ratios to the reference in the same
run: time ≤ 0.30, peak RSS ≤ 0.60 on every photo, JPEG + WebP bytes ≤ 0.90 with every
variant's SSIM ≥ the reference's; with the AVIF example, the bytes a browser that decodes AVIF
downloads for the 800- and 1200-wide pictures ≤ 0.65 of sharp's WebP at SSIM ≥ sharp's WebP;
cold start + first 12 MP image ≤ 0.75; 100 MP within 1024 MB.
Absolute milliseconds are this machine's and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from report import Report
from ssim import ssim
from truth import truth_variants

from imgproc.config import Config
from imgproc.errors import BadImage
from imgproc.render import render

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CORPUS = BENCH.parents[1] / "shared" / "corpus"
REFERENCE = BENCH / "reference"
CACHE = BENCH / ".cache"  # generated inputs; bench/.gitignore keeps it out of git
MODES = ("render", "baseline", "avif", "process", "naive")
INSTALL_REFERENCE = "cd bench/reference && npm ci"
AVIF_CONFIG = REPO / "examples" / "config" / "avif.toml"
ORIENTATION = 0x0112  # EXIF; 5-8 store the picture turned a quarter (portrait phones)
ROTATED_FROM = "p04_galaxy_s7edge_12mp.jpg"  # the phone photo, also stored turned (see below)


def avif_variants():
    """The AVIF example's variants: the six defaults and an AVIF beside each WebP."""
    from imgproc.config import load_config

    return load_config(AVIF_CONFIG, env={}).variants


def main() -> None:
    args = parse_args()
    given = [p.resolve() for p in args.photos]
    photos = list(dict.fromkeys(([] if args.no_corpus else corpus_photos()) + given))
    if not args.no_corpus and (CORPUS / ROTATED_FROM).is_file():
        photos.append(rotated_photo(CORPUS / ROTATED_FROM))
    if not photos:
        sys.exit(f"No photos: {CORPUS} is empty or missing and none were given.")
    report = Report()
    notice = None if args.no_reference else reference_missing()
    if notice:
        report.notice(notice)
    use_reference = not args.no_reference and notice is None
    results: dict = {"runs": args.runs, "reference": use_reference, "photos": []}
    with tempfile.TemporaryDirectory(prefix="imgproc-bench-") as scratch:
        for photo in photos:
            entry = bench_photo(photo, args.runs, use_reference, Path(scratch) / photo.name)
            results["photos"].append(entry)
            report.photo(entry)
        results["summary"] = report.summary(results["photos"]) if use_reference else None
        results["cold_start"] = cold_start(args.runs, use_reference, Path(scratch))
        results["cold_start"]["render_first_ms"] = first_render_ms(results)
        report.cold_start(results["cold_start"])
        results["hundred_mp"] = hundred_megapixels(use_reference, Path(scratch))
        report.hundred_mp(results["hundred_mp"])
    results["cost"] = lambda_cost(results["photos"])
    report.cost(results["cost"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        report.notice(f"raw numbers written to {args.json}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", type=Path, metavar="PHOTO")
    parser.add_argument("--runs", type=int, default=5, help="runs per photo (median reported)")
    parser.add_argument("--no-reference", action="store_true", help="skip the Node.js reference")
    parser.add_argument("--no-corpus", action="store_true", help="only the photos given")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every raw number here")
    return parser.parse_args()


def rotated_photo(source: Path, orientation: int = 6) -> Path:
    """`source` stored turned a quarter with EXIF orientation 6, as a phone held upright
    writes it, generated once into bench/.cache/. The corpus has no such photo; this one has
    the pixels of a corpus photo, so its ratios read beside that photo's. It is marked
    ROTATED and left out of the medians (it is not a shared photo), but counts for the
    peak RSS target, which holds on every photo."""
    path = CACHE / f"{source.stem}_stored_orientation{orientation}.jpg"
    if path.is_file():
        return path
    progress(f"generating {path.relative_to(REPO)} (once)")
    with Image.open(source) as opened:
        stored = opened.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    CACHE.mkdir(exist_ok=True)
    partial = path.with_suffix(".part")
    stored.save(partial, "JPEG", quality=92, exif=exif.tobytes())
    partial.rename(path)
    return path


def corpus_photos() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "README.md")


def reference_missing() -> str | None:
    """Why the reference cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return ("reference skipped: node is not installed; install Node.js 18+, then: "
                + INSTALL_REFERENCE)
    if not (REFERENCE / "node_modules" / "sharp").is_dir():
        return f"reference skipped: sharp is not installed; run: {INSTALL_REFERENCE}"
    return None


# --- one photo ------------------------------------------------------------------------------


def bench_photo(photo: Path, runs: int, use_reference: bool, scratch: Path) -> dict:
    progress(f"{photo.name}: lossless reference rendering")
    entry = {"name": photo.name, "path": str(photo), "corpus": photo.parent == CORPUS,
             "size": None, "orientation": 1, "truth_sizes": {}, "impls": {}}
    try:
        truth = truth_variants(photo, avif_variants())
        # imgproc's crops sit on its focal point (the same in every imgproc mode)
        focal = render(photo.read_bytes(), Config()).focal_point
        aimed = truth_variants(photo, avif_variants(), focal)
        with Image.open(photo) as opened:
            entry["size"] = opened.size
            entry["orientation"] = opened.getexif().get(ORIENTATION, 1)
    except (OSError, ValueError, BadImage) as exc:  # unreadable: time it anyway, no SSIM
        truth, aimed, entry["truth_error"] = {}, {}, f"{type(exc).__name__}: {exc}"
    entry["truth_sizes"] = {name: picture.size for name, picture in truth.items()}
    for mode in (*MODES, "reference") if use_reference else MODES:
        progress(f"{photo.name}: {mode} × {runs}")
        out = scratch / mode
        result = run_reference(photo, runs, out) if mode == "reference" else run_worker(
            mode, photo, runs, out)
        if "error" not in result:
            result["median_ms"] = statistics.median(result["wall_ms"])
            result["median_cpu_ms"] = statistics.median(result["cpu_ms"])
            result["ssim"] = score(out, truth if mode in ("reference", "naive") else aimed)
        entry["impls"][mode] = result
    return entry


def run_worker(mode: str, photo: Path, runs: int, out: Path) -> dict:
    command = [sys.executable, str(BENCH / "worker.py"), mode, str(photo), "--runs", str(runs),
               "--out", str(out)]
    return run_json(command)


def run_reference(photo: Path, runs: int, out: Path) -> dict:
    command = ["node", str(REFERENCE / "reference.js"), "--runs", str(runs), "--out", str(out),
               "--single-thread", str(photo)]
    return run_json(command)


def run_json(command: list[str]) -> dict:
    """The last stdout line of `command` as JSON, or {"error": its last stderr line}."""
    returncode, stdout, stderr = SPAWNER.run(command)
    lines = stdout.strip().splitlines()
    if returncode != 0 or not lines:
        detail = (stderr.strip().splitlines() or [f"exit status {returncode}"])[-1]
        return {"error": detail[:300]}
    return json.loads(lines[-1])


class Spawner:
    """Starts every measured process from a tiny helper process, never from this one.

    On Linux a child's ru_maxrss (what worker.py and Node's resourceUsage().maxRSS report)
    starts at its parent's resident size when it was spawned: vfork/fork + exec carry the
    parent's high-water mark over. Spawned from this process, which holds decoded truth images
    (and ~900 MB while generating the 100 MP file), every peak RSS would read as ours. The
    helper imports only json and subprocess (~10 MB), which is then the floor.
    """

    CODE = (
        "import json, subprocess, sys\n"
        "for line in sys.stdin:\n"
        "    request = json.loads(line)\n"
        "    done = subprocess.run(request['command'], cwd=request['cwd'], capture_output=True,"
        " text=True)\n"
        "    print(json.dumps([done.returncode, done.stdout, done.stderr]), flush=True)\n"
    )

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None

    def run(self, command: list[str]) -> tuple[int, str, str]:
        if self._process is None:
            self._process = subprocess.Popen([sys.executable, "-S", "-c", self.CODE],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             text=True)
        self._process.stdin.write(json.dumps({"command": command, "cwd": str(REPO)}) + "\n")
        self._process.stdin.flush()
        returncode, stdout, stderr = json.loads(self._process.stdout.readline())
        return returncode, stdout, stderr


SPAWNER = Spawner()


def score(out: Path, truth: dict[str, Image.Image]) -> dict:
    """SSIM of each written variant against its truth; a truth off by rounding is resized."""
    scores = {}
    for name, ideal in truth.items():
        found = sorted(out.glob(f"{name}.*"))
        if not found:
            continue
        with Image.open(found[0]) as opened:
            made = opened.convert("RGB")
        resized = made.size != ideal.size
        if resized:
            ideal = ideal.resize(made.size, Image.Resampling.LANCZOS)
        scores[name] = {"ssim": ssim(made, ideal), "size": made.size, "truth_resized": resized}
    return scores


def progress(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


# --- cold start -----------------------------------------------------------------------------


def cold_start(runs: int, use_reference: bool, scratch: Path) -> dict:
    """bench/cold_start.py's child, `runs` fresh processes; the reference likewise, --runs 1."""
    sys.path.insert(0, str(BENCH))
    import cold_start as handler_bench

    image = handler_bench.DEFAULT_IMAGE
    if not image.is_file():
        return {"error": f"{image} is missing"}
    # The Lambda bundle ships bytecode (cdk/imgproc_cdk/bundling.py); a checkout run with
    # PYTHONDONTWRITEBYTECODE would otherwise compile imgproc's sources in every fresh process.
    compileall.compile_dir(REPO / "src" / "imgproc", quiet=1)
    progress(f"cold start × {runs}: imgproc handler")
    child = [sys.executable, "-c", handler_bench.CHILD, str(image)]
    imgproc_runs = [run_json(child) for _ in range(runs)]
    failed = [r["error"] for r in imgproc_runs if "error" in r]
    if failed:
        return {"error": failed[0]}
    no_io = [sys.executable, "-c", handler_bench.CHILD_NO_IO, str(image)]
    result = {"image": image.name, "imgproc": imgproc_runs,
              "no_io": [run_json(no_io) for _ in range(runs)],
              "boto3_ms": [handler_bench._boto3_import_ms() for _ in range(runs)]}
    if use_reference:
        progress(f"cold start × {runs}: reference")
        result["reference"] = [run_reference(image, 1, scratch / "cold") for _ in range(runs)]
    return result


def first_render_ms(results: dict) -> float | None:
    """The cold-start image's first render in its worker: the same pixels without any I/O."""
    for photo in results["photos"]:
        if photo["name"] == results["cold_start"].get("image"):
            return photo["impls"]["render"].get("first_ms")
    return None


# --- 100 megapixels -------------------------------------------------------------------------


def hundred_megapixels(use_reference: bool, scratch: Path) -> dict:
    photo = big_jpeg()
    result = {"photo": str(photo), "bytes": photo.stat().st_size}
    for mode in ("render", "process", *(("reference",) if use_reference else ())):
        progress(f"100 MP: {mode}")
        out = scratch / f"big-{mode}"
        result[mode] = (run_reference(photo, 1, out) if mode == "reference"
                        else run_worker(mode, photo, 1, out))
    return result


def big_jpeg(side: int = 10_000) -> Path:
    """A 10000×10000 JPEG at the 100 MP pixel limit, generated once into bench/.cache/.

    Smooth colour noise blended with gradients: real JPEG work for the decoder, yet ~6 MB, so
    it also fits under the default 10 MiB max_image_size (a real 100 MP camera JPEG would not).
    """
    path = CACHE / f"gradient_noise_{side}x{side}.jpg"
    if path.is_file():
        return path
    progress(f"generating {path.relative_to(REPO)} (once)")
    channels = []
    for turn in range(3):
        blobs = Image.effect_noise((side // 32, side // 32), 64)
        blobs = blobs.resize((side, side), Image.Resampling.BICUBIC)
        gradient = Image.linear_gradient("L").resize((side, side)).rotate(90 * turn)
        channels.append(Image.blend(blobs, gradient, 0.5))
    CACHE.mkdir(exist_ok=True)
    partial = path.with_suffix(".part")
    Image.merge("RGB", channels).save(partial, "JPEG", quality=80)
    partial.rename(path)
    return path


# --- cost -----------------------------------------------------------------------------------

ARM64_GB_SECOND = 0.0000133334
PER_MILLION_REQUESTS = 0.20


def lambda_cost(photos: list[dict]) -> dict:
    memory_mb, source = stack_memory_mb()
    shared = [p for p in photos if p["corpus"]] or photos
    rows = {}
    for mode in ("process", "reference"):
        times = [p["impls"][mode]["median_ms"] for p in shared
                 if "median_ms" in p["impls"].get(mode, {})]
        if times:
            ms = statistics.median(times)
            gb_seconds = ms / 1000 * memory_mb / 1024
            compute = gb_seconds * ARM64_GB_SECOND * 1_000_000
            rows[mode] = {"median_ms": ms, "gb_seconds": gb_seconds, "compute_usd": compute,
                          "total_usd": compute + PER_MILLION_REQUESTS}
    return {"memory_mb": memory_mb, "memory_source": source, "rows": rows}


def stack_memory_mb() -> tuple[int, str]:
    """DeploySettings.memory_mb, read from cdk/imgproc_cdk/settings.py without importing it.

    Importing that module imports aws_cdk, which starts a jsii Node.js runtime (seconds, and
    a banner on stdout); the dataclass default is a literal, so the syntax tree has it.
    """
    import ast

    path = REPO / "cdk" / "imgproc_cdk" / "settings.py"
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return 1769, "default (cdk settings unreadable)"
    for node in ast.walk(tree):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.target.id == "memory_mb" and isinstance(node.value, ast.Constant)):
            return int(node.value.value), "cdk/imgproc_cdk/settings.py DeploySettings"
    return 1769, "default (memory_mb not found in cdk settings)"


if __name__ == "__main__":
    main()
