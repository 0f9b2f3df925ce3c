"""A fuzz campaign: generated inputs judged by worker processes, with a summary at the end.

Input number i of seed S is a pure function of (S, i) (`mutators.generate`), so any finding
is reproduced by its index alone. Inputs are judged in `worker.py` subprocesses: a segfault
kills a worker, not the campaign, and is blamed on the input that worker was judging; an
input still running after `hard_timeout` seconds is a hang (the worker is killed); one that
finishes past the render's own time budget (`Config().time_budget`, plus `budget_grace`)
without a TooSlow error is "over-budget" (past it in wall-clock time and in CPU time: the
budget counts CPU seconds, so that a busy machine never turns a good picture into a failure;
one only slow because the other workers held the cores is "slow"); one whose peak memory
exceeds `rss_limit_mb` (the
Lambda's memory by default) is "memory". Those fail a run. Inputs slower than `slow_seconds`
but within the budget are listed as "slow", for information. Every finding's input is saved
under `out` with a JSON sidecar saying what went wrong.

Used by tests/test_fuzz.py (bounded, fixed seed) and bench/fuzz.py (long runs).
"""

from __future__ import annotations

import collections
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from imgproc.config import Config
from tests.fuzz.known import known_bug
from tests.fuzz.mutators import container_of, describe, generate
from tests.fuzz.oracle import unread_extension
from tests.fuzz.seeds import build_seeds, upload_name

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_MEMORY_MB = 1769  # cdk/imgproc_cdk/settings.py: what a picture must fit in
EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "tiff": "tif",
              "isobmff": "heif"}

# kinds of finding; "slow" is informational
FAILING = ("violation", "crash", "hang", "over-budget", "memory")


@dataclass
class Finding:
    index: int
    kind: str
    description: str
    problems: list[str]
    path: Path | None = None
    known: str | None = None


@dataclass
class Summary:
    seed: int
    seconds: float = 0.0
    inputs: int = 0
    outcomes: collections.Counter = field(default_factory=collections.Counter)  # of render
    process_outcomes: collections.Counter = field(default_factory=collections.Counter)
    error_types: collections.Counter = field(default_factory=collections.Counter)
    finding_kinds: collections.Counter = field(default_factory=collections.Counter)
    processed: int = 0
    findings: list[Finding] = field(default_factory=list)
    slowest_ms: float = 0.0
    slowest: str = ""
    peak_rss_mb: float = 0.0
    peak_rss_input: str = ""
    worker_restarts: int = 0

    @property
    def new_findings(self) -> list[Finding]:
        """Failing findings that are not known bugs: what fails a run."""
        return [f for f in self.findings if f.known is None and f.kind in FAILING]

    def text(self) -> str:
        rate = self.inputs / self.seconds if self.seconds else 0.0
        lines = [
            f"fuzz summary: seed {self.seed}, {self.inputs} inputs in {self.seconds:.1f} s "
            f"({rate:.1f}/s), {self.processed} also through process_object",
            "  render: " + _counts(self.outcomes),
            "  BadImage by errorType: " + _counts(self.error_types),
            "  process_object (and imgproc process): " + _counts(self.process_outcomes),
            "  findings by kind: " + _counts(self.finding_kinds),
            f"  slowest input: {self.slowest_ms:.0f} ms ({self.slowest})",
            f"  peak RSS of a worker during one input: {self.peak_rss_mb:.0f} MB "
            f"({self.peak_rss_input})",
            f"  worker restarts: {self.worker_restarts}",
        ]
        known = [f for f in self.findings if f.known]
        slow = [f for f in self.findings if f.kind == "slow"]
        lines.append(f"  findings: {len(self.new_findings)} new, {len(known)} known bugs, "
                     f"{len(slow)} slow but within the time budget")
        by_bug = collections.Counter(bug for f in known for bug in f.known.split(", "))
        if by_bug:
            lines.append("  known bugs hit (tests/fuzz/known.py): " + _counts(by_bug))
        # every new and slow finding (up to 40), then the first example of each known bug
        shown = [f for f in self.findings if not f.known][:40]
        examples: dict[str, Finding] = {}
        for finding in known:
            examples.setdefault(finding.known, finding)
        for finding in sorted(shown, key=lambda f: f.index) + list(examples.values()):
            tag = "info" if finding.kind == "slow" else (
                f"known: {finding.known}, e.g." if finding.known else "NEW")
            lines.append(f"    [{finding.kind}, {tag}] #{finding.index} {finding.description}")
            for problem in finding.problems[:3]:
                lines.append(f"        {problem[:300]}")
            if finding.path:
                lines.append(f"        saved: {finding.path}")
        return "\n".join(lines)


class WorkerDied(Exception):
    pass


class Worker:
    """One `python -m tests.fuzz.worker` process, judging one input at a time."""

    def __init__(self, scratch: Path, name: str):
        self.scratch = scratch
        self.name = name
        self.log = scratch / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self._buffer = b""

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
            IMGPROC_FUZZ_WORKDIR=str(self.scratch))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.worker"], cwd=ROOT, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self._buffer = b""
        ready = self._read_line(120)
        if not json.loads(ready).get("ready"):
            raise WorkerDied(f"worker did not start: {ready!r}")

    def judge(self, path: Path, process: bool, timeout: float, cli: bool = False,
              name: str | None = None) -> dict:
        """The verdict (`name`: the upload's file name; see worker.py); raises WorkerDied
        (crash) or TimeoutError (hang: worker killed)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        request = json.dumps({"path": str(path), "process": process, "cli": cli,
                              "name": name}) + "\n"
        try:
            self.proc.stdin.write(request.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(self._death()) from exc
        return json.loads(self._read_line(timeout))

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise TimeoutError
                if not selector.select(left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise WorkerDied(self._death())
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _death(self) -> str:
        code = self.proc.wait(timeout=30) if self.proc else None
        self.proc = None
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        signal_name = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
        return f"worker died ({signal_name}); stderr tail:\n{tail}"

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
            self.proc = None


class Campaign:
    def __init__(self, seed: int, seconds: float, *, workers: int = 2, out: Path | None = None,
                 process_every: int = 8, slow_seconds: float = 10.0, budget_grace: float = 5.0,
                 hard_timeout: float | None = None, rss_limit_mb: float = LAMBDA_MEMORY_MB,
                 max_inputs: int | None = None, first_index: int = 0,
                 progress: Callable[[Summary], None] | None = None,
                 progress_every: float = 5.0):
        self.seed = seed
        self.seconds = seconds
        self.workers = workers
        self.out = out
        self.process_every = process_every
        self.slow_seconds = slow_seconds
        self.budget = Config().time_budget + budget_grace  # seconds per render
        # process_object renders once more: twice the budget, and some, is a hang
        self.hard_timeout = hard_timeout or 2 * self.budget + 30
        self.rss_limit_mb = rss_limit_mb
        self.max_inputs = max_inputs
        self.progress = progress
        self.progress_every = progress_every
        self.seeds = build_seeds()
        self.summary = Summary(seed)
        self._next = first_index
        self._end_index = None if max_inputs is None else first_index + max_inputs
        self._lock = threading.Lock()

    def run(self) -> Summary:
        started = time.monotonic()
        self._deadline = started + self.seconds
        with tempfile.TemporaryDirectory(prefix="imgproc-fuzz-") as scratch:
            threads = [threading.Thread(target=self._loop, args=(Path(scratch), n), daemon=True)
                       for n in range(self.workers)]
            for thread in threads:
                thread.start()
            last = time.monotonic()
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(timeout=0.5)
                if self.progress and time.monotonic() - last >= self.progress_every:
                    last = time.monotonic()
                    with self._lock:
                        self.summary.seconds = last - started
                        self.progress(self.summary)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _take(self) -> int | None:
        with self._lock:
            if time.monotonic() >= self._deadline:
                return None
            if self._end_index is not None and self._next >= self._end_index:
                return None
            index, self._next = self._next, self._next + 1
            return index

    def _loop(self, scratch: Path, number: int) -> None:
        worker = Worker(scratch, f"worker{number}")
        candidate = scratch / f"input-{number}"
        try:
            while (index := self._take()) is not None:
                name, data, steps = generate(self.seed, index, self.seeds)
                candidate.write_bytes(data)
                process = self.process_every > 0 and index % self.process_every == 0
                # one in four of those goes through `imgproc process` (the CLI) as well
                cli = process and index % (4 * self.process_every) == 0
                self._judge(worker, index, describe(name, steps), data, candidate, process, cli,
                            upload_name(name))
        finally:
            worker.close()

    def _judge(self, worker: Worker, index: int, description: str, data: bytes,
               candidate: Path, process: bool, cli: bool, name: str | None = None) -> None:
        verdict, kind, problems = None, None, []
        try:
            verdict = worker.judge(candidate, process, self.hard_timeout, cli, name)
        except WorkerDied as exc:
            kind, problems = "crash", [str(exc)]
        except TimeoutError:
            kind, problems = "hang", [f"no answer within {self.hard_timeout:g} s; worker killed"]
        if verdict is not None:
            kind, problems = self._classify(verdict)
        with self._lock:
            summary = self.summary
            summary.inputs += 1
            if kind in ("crash", "hang"):
                summary.worker_restarts += 1
            if verdict is not None:
                outcome = {"violation": "other exception (bug)"}.get(verdict["outcome"],
                                                                      verdict["outcome"])
                if verdict.get("failures"):
                    outcome = "rendered with failed variants"
                summary.outcomes[outcome] += 1
                if verdict["outcome"] == "bad_image":
                    summary.error_types[verdict["errorType"]] += 1
                if process:
                    summary.processed += 1
                    summary.process_outcomes[verdict["process"]["status"]] += 1
                if cli:
                    summary.process_outcomes[f"CLI {verdict['cli']['status']}"] += 1
                elapsed = verdict["ms"] + verdict.get("process_ms", 0)
                if elapsed > summary.slowest_ms:
                    summary.slowest_ms, summary.slowest = elapsed, f"#{index} {description}"
                if verdict["rss_mb"] > summary.peak_rss_mb:
                    summary.peak_rss_mb = verdict["rss_mb"]
                    summary.peak_rss_input = f"#{index} {description}"
            else:
                summary.outcomes[kind] += 1
            if kind is None:
                return
            summary.finding_kinds[kind] += 1
            finding = Finding(index, kind, description, problems,
                              known=known_bug(kind, problems, verdict))
            summary.findings.append(finding)
        finding.path = self._save(finding, data, verdict, name)

    def _classify(self, verdict: dict) -> tuple[str | None, list[str]]:
        return classify(verdict, budget=self.budget, rss_limit_mb=self.rss_limit_mb,
                        slow_seconds=self.slow_seconds)

    def _save(self, finding: Finding, data: bytes, verdict: dict | None,
              name: str | None = None) -> Path | None:
        if self.out is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", finding.description)[:80].strip("-")
        # an unread format's name is part of the input: the worker judges a file by it
        extension = unread_extension(name) or EXTENSIONS.get(container_of(data), "bin")
        path = self.out / f"{finding.kind}-{self.seed}-{finding.index}-{slug}.{extension}"
        path.write_bytes(data)
        sidecar = {"seed": self.seed, "index": finding.index, "kind": finding.kind,
                   "uploadName": name or "input.jpg",
                   "known": finding.known, "description": finding.description,
                   "problems": finding.problems, "verdict": verdict,
                   "reproduce": [f"python -m tests.fuzz.worker --process-all {path}",
                                 f"python bench/fuzz.py --seed {self.seed} --index "
                                 f"{finding.index}"]}
        path.with_name(path.name + ".json").write_text(json.dumps(sidecar, indent=2))
        return path


def classify(verdict: dict, *, budget: float, rss_limit_mb: float = LAMBDA_MEMORY_MB,
             slow_seconds: float = 10.0) -> tuple[str | None, list[str]]:
    """The finding's kind (the worst that applies) and every problem with the input."""
    kinds, problems = [], list(verdict.get("problems", []))
    for name, label in (("process", "process_object"), ("cli", "imgproc process")):
        problems += [f"{label}: {p}" for p in verdict.get(name, {}).get("problems", [])]
    if verdict.get("failures"):
        problems += [f"partial: variant {name} failed: {error}"
                     for name, error in verdict["failures"].items()]
    if problems:
        kinds.append("violation")
    worst = max(verdict["ms"], verdict.get("process_ms", 0)) / 1000
    # CPU seconds of this process (all threads) for the same calls; a verdict without them
    # (an older sidecar) is judged on wall-clock time alone
    cpu = max(verdict.get("cpu_ms", verdict["ms"]),
              verdict.get("process_cpu_ms", verdict.get("process_ms", 0))) / 1000
    busy = None  # past the budget in wall-clock time only
    if worst > budget and cpu > budget:
        kinds.append("over-budget")
        problems.append(f"took {worst:.1f} s ({cpu:.1f} s of CPU), past the {budget:g} s time "
                        f"budget (with grace), for a {_size(verdict)} image")
    elif worst > budget:
        busy = (f"took {worst:.1f} s, past the {budget:g} s time budget (with "
                f"grace) in wall-clock time but {cpu:.1f} s of CPU, within it (the machine was "
                f"busy), for a {_size(verdict)} image")
    if verdict["rss_mb"] > rss_limit_mb:
        kinds.append("memory")
        problems.append(f"peak RSS {verdict['rss_mb']:.0f} MB (over {rss_limit_mb:g} "
                        f"MB) for a {_size(verdict)} image")
    if not kinds and worst > slow_seconds:
        kinds.append("slow")
        problems.append(busy or f"took {worst:.1f} s (over {slow_seconds:g} s) for a "
                                f"{_size(verdict)} image")
    return (kinds[0] if kinds else None), problems


def _counts(counter: collections.Counter) -> str:
    return ", ".join(f"{key} {value}" for key, value in counter.most_common()) or "none"


def _size(verdict: dict) -> str:
    size = verdict.get("size")
    return f"{size[0]}x{size[1]}" if size else "?"
