"""Judge inputs in a process of its own, so a crash (segfault, abort, OOM kill) is attributable.

    python -m tests.fuzz.worker FILE_OR_DIR...       # judge files, one JSON line each
    python -m tests.fuzz.worker [--process-all]      # serve: requests on stdin (below)

Serving, each stdin line is {"path": FILE, "process": BOOL, "cli": BOOL, "name": NAME} and
each answer one stdout line (NAME: the file name process_object and `imgproc process` see,
e.g. "input.bmp"; without it, `input.<ext>` when FILE is named after an image format imgproc
does not read, else input.jpg): the oracle's verdict (`oracle.check_render`, plus `process`
from `oracle.check_process` and `cli` from `oracle.check_cli` when asked) with `ms` (wall
time of the render), `cpu_ms` (its CPU time, all threads), `process_ms`, `process_cpu_ms`
and `rss_mb` (this process's peak resident memory during the input alone; Linux resets the
high-water mark per input).
The protocol owns the real stdout: anything a library prints goes to stderr instead.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
from pathlib import Path

from tests.fuzz import oracle


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def judge(data: bytes, process: bool, workdir: str | None = None, cli: bool = False,
          name: str | None = None) -> dict:
    """Render; with `process`, process_object too; with `cli`, `imgproc process` too (both
    with the upload named `name`, default input.jpg).

    `process_ms` is the slower of the two (each renders the picture again).
    """
    reset_peak_rss()
    started, cpu = time.monotonic(), time.process_time()
    verdict = oracle.check_render(data)
    verdict["ms"] = round((time.monotonic() - started) * 1000, 1)
    verdict["cpu_ms"] = round((time.process_time() - cpu) * 1000, 1)
    for wanted, label, check in ((process, "process", oracle.check_process),
                                 (cli, "cli", oracle.check_cli)):
        if wanted:
            started, cpu = time.monotonic(), time.process_time()
            verdict[label] = check(data, expected=verdict, workdir=workdir, name=name)
            verdict["process_ms"] = max(verdict.get("process_ms", 0),
                                        round((time.monotonic() - started) * 1000, 1))
            verdict["process_cpu_ms"] = max(verdict.get("process_cpu_ms", 0),
                                            round((time.process_time() - cpu) * 1000, 1))
    verdict["rss_mb"] = round(peak_rss_mb(), 1)
    return verdict


def serve(out, process_all: bool) -> None:
    workdir = os.environ.get("IMGPROC_FUZZ_WORKDIR") or None
    selftest = os.environ.get("IMGPROC_FUZZ_SELFTEST") == "1"
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        data = Path(request["path"]).read_bytes()
        if selftest:
            misbehave(data)
        verdict = judge(data, process_all or request.get("process", False), workdir,
                        cli=request.get("cli", False),
                        name=request.get("name") or oracle.name_for(request["path"]))
        out.write(json.dumps(verdict) + "\n")
        out.flush()


def misbehave(data: bytes) -> None:
    """IMGPROC_FUZZ_SELFTEST=1: inputs starting SELFTEST-SEGV / SELFTEST-HANG crash or hang the
    worker, so tests/test_fuzz.py can check that the harness survives both."""
    if data.startswith(b"SELFTEST-SEGV"):
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV
    if data.startswith(b"SELFTEST-HANG"):
        time.sleep(3600)


def main(argv: list[str]) -> None:
    faulthandler.enable()  # a segfault leaves its Python stack on stderr
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints from C libraries must not corrupt the protocol
    sys.stdout = sys.stderr
    process_all = "--process-all" in argv
    paths = [Path(arg) for arg in argv if arg != "--process-all"]
    if not paths:
        protocol.write(json.dumps({"ready": True}) + "\n")
        protocol.flush()
        serve(protocol, process_all)
        return
    files = [p for path in paths for p in (sorted(path.iterdir()) if path.is_dir() else [path])]
    for path in files:
        if path.is_file():
            verdict = judge(path.read_bytes(), process_all, name=oracle.name_for(path))
            protocol.write(json.dumps({"path": str(path), **verdict}) + "\n")
            protocol.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
