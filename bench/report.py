"""The tables bench/run.py prints, and the summary arithmetic against the issue's targets.

Kept apart from the measuring so that run.py reads as what is run, and this as what is shown.
Every ratio is imgproc / reference from the same run on the same machine; absolute times are
printed for orientation only and labelled as noise.
"""

from __future__ import annotations

import statistics
import sys

from rich.console import Console
from rich.table import Table

VARIANTS = ("thumbnail", "small", "medium", "large", "webp-medium", "webp-large")
JPEG_VARIANTS = VARIANTS[:4]
# the AVIF example's AVIFs and the WebP each stands beside (what a browser gets without it)
AVIF_SIBLINGS = {"avif-medium": "webp-medium", "avif-large": "webp-large"}
LABELS = {"render": "imgproc render", "baseline": "imgproc render, JPEG baseline (effort 3)",
          "avif": "imgproc render, AVIF example config",
          "process": "imgproc process_object", "naive": "naive Pillow",
          "reference": "reference sharp 0.33.2"}
TIME_TARGET, RSS_TARGET, BYTES_TARGET, COLD_TARGET, BIG_MB_TARGET = 0.30, 0.60, 0.90, 0.75, 1024
BROWSER_BYTES_TARGET = 0.65
NOISE = "absolute ms are this machine's and noisy: compare the ratios"


def total_bytes(impl: dict) -> int:
    """JPEG + WebP bytes of the six variants (the placeholder is shown but not counted)."""
    return sum(impl["bytes"].get(name, 0) for name in VARIANTS)


def mean_ssim(impl: dict) -> float | None:
    values = [s["ssim"] for s in impl.get("ssim", {}).values()]
    return statistics.fmean(values) if values else None


def summarise(photos: list[dict]) -> dict:
    """Per-photo ratios to the reference, then their median over the shared photos."""
    shared = [p for p in photos if p["corpus"]] or photos
    ok = [p for p in shared if all("error" not in p["impls"][m] for m in ("render", "process",
                                                                          "reference"))]
    metrics: dict[str, dict] = {}

    def add(key: str, label: str, values: list[float], target: float | None,
            higher: bool = False, every: bool = False):
        """`every`: the target holds for the worst photo, not the median."""
        if values:
            median = statistics.median(values)
            judged = (min(values) if higher else max(values)) if every else median
            passed = None if target is None else (
                judged >= target if higher else judged <= target)
            metrics[key] = {"label": label, "median": median, "min": min(values),
                            "max": max(values), "target": target, "higher_is_better": higher,
                            "every": every, "pass": passed}

    def ratio(photo: dict, mode: str, field) -> float:
        return field(photo["impls"][mode]) / field(photo["impls"]["reference"])

    for mode in ("render", "process"):
        add(f"time_{mode}", f"time, {LABELS[mode]} / reference",
            [ratio(p, mode, lambda i: i["median_ms"]) for p in ok], TIME_TARGET)
    every = ok + [p for p in photos if p not in shared and p.get("orientation", 1) >= 5
                  and all("error" not in p["impls"].get(m, {"error": "absent"})
                          for m in ("render", "process", "reference"))]
    for mode in ("render", "process"):
        add(f"rss_{mode}", f"peak RSS, {LABELS[mode]} / reference (every photo, rotated "
            "included)", [ratio(p, mode, lambda i: i["peak_rss_mb"]) for p in every],
            RSS_TARGET, every=True)
    add("bytes", "JPEG+WebP bytes, imgproc / reference",
        [ratio(p, "render", total_bytes) for p in ok], BYTES_TARGET)
    for name in VARIANTS:
        add(f"ssim_{name}", f"SSIM {name}, imgproc − reference",
            ssim_deltas(ok, "render", name), 0.0, higher=True)
    # JPEG baseline (effort 3): the lossless progressive step of the default, priced
    fast = [p for p in ok if "error" not in p["impls"].get("baseline", {"error": "absent"})]
    add("time_baseline", f"time, {LABELS['baseline']} / reference",
        [ratio(p, "baseline", lambda i: i["median_ms"]) for p in fast], TIME_TARGET)
    add("bytes_baseline", f"JPEG+WebP bytes, {LABELS['baseline']} / reference",
        [ratio(p, "baseline", total_bytes) for p in fast], BYTES_TARGET)
    # the AVIF example: what a browser that decodes AVIF downloads at 800 and 1200 px wide
    avif = [p for p in ok if "error" not in p["impls"].get("avif", {"error": "absent"})]
    add("browser_bytes", "bytes a browser with AVIF downloads, 800 + 1200 wide, AVIF example "
        "/ reference WebP", [browser_bytes(p) for p in avif], BROWSER_BYTES_TARGET)
    for avif_name, webp_name in AVIF_SIBLINGS.items():
        add(f"ssim_browser_{avif_name}", f"SSIM of what the browser gets at "
            f"{webp_name.split('-')[1]}, AVIF example − reference WebP",
            [browser_ssim(p, avif_name, webp_name) for p in avif
             if browser_ssim(p, avif_name, webp_name) is not None], 0.0, higher=True)
        add(f"published_{avif_name}", f"{avif_name} published (1) or withheld (0)",
            [float(avif_name in p["impls"]["avif"]["bytes"]) for p in avif], None)
    add("time_avif_extra", "extra time of the AVIF example over the default / reference time",
        [(p["impls"]["avif"]["median_ms"] - p["impls"]["render"]["median_ms"])
         / p["impls"]["reference"]["median_ms"] for p in avif], None)
    return {"photos": [p["name"] for p in ok], "metrics": metrics}


def browser_choice(photo: dict, avif_name: str, webp_name: str) -> str:
    """The AVIF when it was published, else its WebP sibling (the <picture>'s next source)."""
    return avif_name if avif_name in photo["impls"]["avif"]["bytes"] else webp_name


def browser_bytes(photo: dict) -> float:
    ours = photo["impls"]["avif"]["bytes"]
    sharp = photo["impls"]["reference"]["bytes"]
    got = sum(ours[browser_choice(photo, a, w)] for a, w in AVIF_SIBLINGS.items())
    return got / sum(sharp[w] for w in AVIF_SIBLINGS.values())


def browser_ssim(photo: dict, avif_name: str, webp_name: str) -> float | None:
    ours = _ssim_of(photo["impls"]["avif"], browser_choice(photo, avif_name, webp_name))
    sharp = _ssim_of(photo["impls"]["reference"], webp_name)
    return None if ours is None or sharp is None else ours - sharp


def ssim_deltas(photos: list[dict], mode: str, name: str) -> list[float]:
    return [p["impls"][mode]["ssim"][name]["ssim"] - p["impls"]["reference"]["ssim"][name]["ssim"]
            for p in photos if name in p["impls"][mode].get("ssim", {})
            and name in p["impls"]["reference"].get("ssim", {})]


class Report:
    def __init__(self) -> None:
        self.console = Console(width=None if sys.stdout.isatty() else 132, highlight=False)

    def notice(self, message: str) -> None:
        self.console.print(f"[bold yellow]note:[/] {message}")

    # --- per photo ------------------------------------------------------------------------

    def photo(self, entry: dict) -> None:
        if entry["size"]:
            width, height = entry["size"]
            title = f"{entry['name']}  {width}×{height} ({width * height / 1e6:.1f} MP)"
            if entry.get("orientation", 1) >= 5:
                title += f"  [bold]ROTATED[/] (EXIF orientation {entry['orientation']})"
        else:
            title = f"{entry['name']}  (no SSIM: Pillow cannot read it: {entry['truth_error']})"
        table = Table(title=title, caption=f"median of runs; {NOISE}", title_justify="left")
        for column in ("implementation", "median ms", "× ref", "CPU ms", "peak RSS MB", "× ref",
                       "JPEG+WebP bytes", "× ref", "mean SSIM"):
            table.add_column(column, justify="left" if column == "implementation" else "right")
        reference = entry["impls"].get("reference", {})
        failures = []
        for mode, impl in entry["impls"].items():
            if "error" in impl:
                table.add_row(LABELS[mode], "[red]failed[/]")
                failures.append(f"{LABELS[mode]} failed: {impl['error']}")
                continue
            table.add_row(
                LABELS[mode], f"{impl['median_ms']:,.0f}",
                _ratio(impl, reference, lambda i: i["median_ms"]),
                f"{impl['median_cpu_ms']:,.0f}", f"{impl['peak_rss_mb']:.0f}",
                _ratio(impl, reference, lambda i: i["peak_rss_mb"]),
                f"{total_bytes(impl):,}", _ratio(impl, reference, total_bytes),
                _num(mean_ssim(impl), ".4f"),
            )
        self.console.print(table)
        for failure in failures:
            self.console.print(f"[red]{failure}[/]")
        if any("ssim" in impl for impl in entry["impls"].values()):
            self.variants(entry)

    def variants(self, entry: dict) -> None:
        ours, ref = entry["impls"].get("render", {}), entry["impls"].get("reference", {})
        naive = entry["impls"].get("naive", {})
        table = Table(title=f"{entry['name']}: per variant (SSIM vs lossless Lanczos reference)",
                      title_justify="left")
        for column in ("variant", "size", "imgproc bytes", "ref bytes", "× ref", "imgproc SSIM",
                       "ref SSIM", "Δ SSIM", "naive SSIM", "note"):
            table.add_column(column, justify="left" if column in ("variant", "note") else "right")
        for name in (*VARIANTS, "placeholder"):
            self._variant_row(table, entry, name, ours, ref, naive)
        avif = entry["impls"].get("avif", {})
        for name, sibling in AVIF_SIBLINGS.items() if "ssim" in avif else ():
            made = name in avif.get("bytes", {})
            self._variant_row(table, entry, name, avif, ref, naive, ref_name=sibling,
                              note=f"AVIF example, against sharp's {sibling}"
                                   + ("" if made else ": [yellow]withheld[/] (≥ 90 % of "
                                      f"{avif['bytes'][sibling]:,} bytes)"))
        self.console.print(table)

    @staticmethod
    def _variant_row(table: Table, entry: dict, name: str, ours: dict, ref: dict, naive: dict,
                     ref_name: str | None = None, note: str | None = None) -> None:
        ref_name = ref_name or name
        ours_s, ref_s = _ssim_of(ours, name), _ssim_of(ref, ref_name)
        delta = ours_s - ref_s if ours_s is not None and ref_s is not None else None
        size = ours.get("ssim", {}).get(name, {}).get("size")
        ours_b, ref_b = ours.get("bytes", {}).get(name), ref.get("bytes", {}).get(ref_name)
        table.add_row(
            name, "×".join(map(str, size)) if size else "", _num(ours_b, ","), _num(ref_b, ","),
            _num(ours_b / ref_b if ours_b and ref_b else None, ".2f"),
            _num(ours_s, ".4f"), _num(ref_s, ".4f"),
            _num(delta, "+.4f", red=delta is not None and delta < 0),
            _num(_ssim_of(naive, name), ".4f"), note or _size_note(entry, name),
        )

    # --- summary --------------------------------------------------------------------------

    def summary(self, photos: list[dict]) -> dict:
        result = summarise(photos)
        table = Table(title=f"Summary: medians over {len(result['photos'])} shared photos of "
                            "per-photo ratios to the reference (single-threaded, same run)",
                      title_justify="left")
        for column in ("metric", "median", "range over photos", "target", "result"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for metric in result["metrics"].values():
            is_ssim = metric["higher_is_better"]
            spec = "+.4f" if is_ssim else ".3f"
            target = metric["target"]
            table.add_row(
                metric["label"], format(metric["median"], spec),
                f"{metric['min']:{spec}} … {metric['max']:{spec}}",
                "—" if target is None else f"≥ {target:+.4f}" if is_ssim else
                f"≤ {target:.2f}" + (" each" if metric["every"] else ""),
                "" if metric["pass"] is None else
                "[green]PASS[/]" if metric["pass"] else "[red]FAIL[/]",
            )
        self.console.print(table)
        self.per_variant(photos)
        self.notice("SSIM is measured against imgproc's own geometry (plan_variant). An "
                    "implementation whose crop sits a fraction of a pixel elsewhere (sharp's cover "
                    "crop snaps to whole pixels of its resized image) loses SSIM for the shift, "
                    "not for quality; the 150 px thumbnail shows it most.")
        return result

    def per_variant(self, photos: list[dict]) -> None:
        """Each variant's bytes and SSIM as medians over the photos, beside sharp's."""
        shared = [p for p in photos if p["corpus"]] or photos
        table = Table(title="Per variant: medians over the photos (AVIF rows: the AVIF example, "
                            "against sharp's WebP of the same size; withheld ones count as "
                            "their WebP, as a browser gets it)", title_justify="left")
        for column in ("variant", "imgproc bytes × ref", "imgproc − ref SSIM", "published"):
            table.add_column(column, justify="left" if column == "variant" else "right")
        rows = [(name, "render", name, name) for name in VARIANTS]
        rows += [(a, "avif", a, w) for a, w in AVIF_SIBLINGS.items()]
        for label, mode, name, ref_name in rows:
            usable = [p for p in shared if "bytes" in p["impls"].get(mode, {})
                      and "bytes" in p["impls"].get("reference", {})]
            if not usable:
                continue
            got = [browser_choice(p, name, ref_name) if mode == "avif" else name
                   for p in usable]
            ratios = [p["impls"][mode]["bytes"][g] / p["impls"]["reference"]["bytes"][ref_name]
                      for p, g in zip(usable, got, strict=True)]
            deltas = [_ssim_of(p["impls"][mode], g) - _ssim_of(p["impls"]["reference"], ref_name)
                      for p, g in zip(usable, got, strict=True)
                      if _ssim_of(p["impls"][mode], g) is not None
                      and _ssim_of(p["impls"]["reference"], ref_name) is not None]
            table.add_row(label, f"{statistics.median(ratios):.3f}",
                          _num(statistics.median(deltas) if deltas else None, "+.4f"),
                          f"{sum(g == name for g in got)} of {len(got)}")
        self.console.print(table)

    # --- cold start, 100 MP, cost ---------------------------------------------------------

    def cold_start(self, data: dict) -> None:
        if "error" in data:
            self.notice(f"cold start not measured: {data['error']}")
            return
        runs, ref_runs = data["imgproc"], data.get("reference") or []
        ref_runs = [r for r in ref_runs if "error" not in r]
        med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
        ref_init = statistics.median(r["init_ms"] for r in ref_runs) if ref_runs else None
        ref_first = statistics.median(r["first_ms"] for r in ref_runs) if ref_runs else None
        boto3 = statistics.median(data["boto3_ms"])
        handler_total = med("total_ms") + boto3
        no_io = data.get("no_io") or []
        ours_total = statistics.median(r["total_ms"] for r in no_io) if no_io else handler_total
        ref_total = statistics.median(r["init_ms"] + r["first_ms"] for r in ref_runs) \
            if ref_runs else None
        table = Table(title=f"Cold start, fresh processes, {data['image']} (median of "
                            f"{len(runs)}; {NOISE})", title_justify="left")
        for column in ("phase", "imgproc handler ms", "reference ms"):
            table.add_column(column, justify="left" if column == "phase" else "right")
        table.add_row("module import (imgproc.lambda_handler / require sharp)",
                      f"{med('import_ms'):,.0f}", _num(ref_init, ",.0f"))
        table.add_row("client and store creation", f"{med('clients_ms'):,.0f}", "—")
        table.add_row("boto3 import (measured alone; moto loads it first)", f"{boto3:,.0f}", "—")
        table.add_row("first 12 MP image (handler: S3 get, 6 puts, records)",
                      f"{med('first_image_ms'):,.0f}", _num(ref_first, ",.0f"))
        table.add_row("total through the handler (S3 and DynamoDB on moto in-process)",
                      f"{handler_total:,.0f}", "—")
        if no_io:
            no_io_med = lambda key: statistics.median(r[key] for r in no_io)  # noqa: E731
            table.add_row("without I/O: import (boto3, Powertools, Pillow included)",
                          f"{no_io_med('import_ms'):,.0f}", _num(ref_init, ",.0f"))
            table.add_row("without I/O: client and store creation",
                          f"{no_io_med('clients_ms'):,.0f}", "—")
            table.add_row("without I/O: first 12 MP image",
                          f"{no_io_med('first_image_ms'):,.0f}", _num(ref_first, ",.0f"))
        table.add_row("[bold]total compared[/] (no I/O on either side; median of per-run "
                      "totals)", f"[bold]{ours_total:,.0f}[/]", _num(ref_total, ",.0f"))
        table.add_row("[dim]for scale: first render alone, fresh worker process (no I/O)[/]",
                      _num(data.get("render_first_ms"), ",.0f"), "")
        self.console.print(table)
        if ref_total:
            ratio = ours_total / ref_total
            data["ratio"], data["ratio_through_handler"] = ratio, handler_total / ref_total
            self._verdict("cold start + first 12 MP image, imgproc / reference", ratio,
                          ratio <= COLD_TARGET, f"≤ {COLD_TARGET:.2f}",
                          f"(through the handler with moto I/O: "
                          f"{data['ratio_through_handler']:.2f})")

    def hundred_mp(self, data: dict) -> None:
        table = Table(title=f"100 MP JPEG at the pixel limit ({data['bytes'] / 1e6:.1f} MB file, "
                            "one run, fresh process)", title_justify="left")
        for column in ("implementation", "peak RSS MB", "wall ms", "target", "result"):
            table.add_column(column, justify="left" if column == "implementation" else "right")
        for mode in ("render", "process", "reference"):
            impl = data.get(mode)
            if impl is None:
                continue
            if "error" in impl:
                table.add_row(LABELS[mode], "[red]failed[/]", "", "", impl["error"][:60])
                continue
            ours = mode != "reference"
            passed = impl["peak_rss_mb"] <= BIG_MB_TARGET
            table.add_row(LABELS[mode], f"{impl['peak_rss_mb']:.0f}", f"{impl['wall_ms'][0]:,.0f}",
                          f"≤ {BIG_MB_TARGET}" if ours else "(for comparison)",
                          ("[green]PASS[/]" if passed else "[red]FAIL[/]") if ours else "")
        self.console.print(table)

    def cost(self, data: dict) -> None:
        table = Table(title=f"Estimated Lambda cost per million images, arm64, "
                            f"{data['memory_mb']} MB ({data['memory_source']})",
                      caption="from this machine's median ms over the shared photos; Lambda's "
                              "vCPU speed differs, so read it as an estimate",
                      title_justify="left")
        for column in ("implementation", "median ms", "GB-s / image", "compute $", "requests $",
                       "total $ / million"):
            table.add_column(column, justify="left" if column == "implementation" else "right")
        for mode, row in data["rows"].items():
            table.add_row(LABELS[mode], f"{row['median_ms']:,.0f}", f"{row['gb_seconds']:.3f}",
                          f"{row['compute_usd']:.2f}", "0.20", f"{row['total_usd']:.2f}")
        self.console.print(table)

    def _verdict(self, label: str, value: float, passed: bool, target: str, extra: str) -> None:
        mark = "[green]PASS[/]" if passed else "[red]FAIL[/]"
        self.console.print(f"{label}: [bold]{value:.2f}[/] (target {target}) {mark} {extra}")


def _ratio(impl: dict, reference: dict, field) -> str:
    try:
        return f"{field(impl) / field(reference):.2f}"
    except (KeyError, TypeError, ZeroDivisionError):
        return "—"


def _num(value, spec: str, red: bool = False) -> str:
    if value is None:
        return "—"
    text = format(value, spec)
    return f"[red]{text}[/]" if red else text


def _ssim_of(impl: dict, name: str) -> float | None:
    return impl.get("ssim", {}).get(name, {}).get("ssim")


def _size_note(entry: dict, name: str) -> str:
    """Which implementations' outputs differ in size from the truth (truth resized to match)."""
    truth = entry["truth_sizes"].get(name)
    notes = []
    for mode, impl in entry["impls"].items():
        scored = impl.get("ssim", {}).get(name)
        if scored and scored["truth_resized"]:
            w, h = scored["size"]
            notes.append(f"{mode} {w}×{h}")
    if not notes:
        return ""
    return f"truth {truth[0]}×{truth[1]} resized for " + ", ".join(notes)
