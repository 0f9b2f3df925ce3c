"""Rendering in a worker process, so one picture that needs too much time or memory fails
alone instead of taking the function (and every other message of its batch) down with it.

One decoder call cannot be interrupted from Python, and an out-of-memory kill ends the whole
process. So the function's own process never decodes a picture: a warm worker does, with a
cap on its data segment (`RLIMIT_DATA`), and the function waits for it with a wall-clock
limit. Overrunning the limit kills the worker (`TooSlow`); a worker that runs out of memory is
replaced and the picture tried once more in a fresh one (a long-lived heap can be
fragmented), then it is `OutOfMemory`. Either way the picture gets a FAILED record naming the
limit, and the next picture gets a fresh worker.

The worker is started with `spawn` (a new interpreter), never `fork`: libvips keeps a pool of
threads, and a forked copy of a process that has used it waits forever for threads that do
not exist in the child.
"""

from __future__ import annotations

import multiprocessing
import os
import threading

from ..config import Config
from ..errors import BadImage, OutOfMemory, TooSlow, TransientError
from ..focal import FocalPoint
from ..render import Rendition
from .pipeline import TimeLimit

MIB = 1024 * 1024
FUNCTION_PROCESS_MB = 320  # the handler's own process: Python, boto3, Powertools, a batch
STARTUP_SECONDS = 60  # a new interpreter importing Pillow and libvips: well under 2 s
_MEMORY_WORDS = ("out of memory", "memoryerror", "cannot allocate memory",
                 "memory allocation failed")


def _serve(conn, memory_bytes: int | None) -> None:
    """The worker: render what arrives until the pipe closes or memory runs out."""
    if memory_bytes:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = _data_segment() + memory_bytes
        resource.setrlimit(resource.RLIMIT_DATA,
                           (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    from ..render import render

    conn.send(("ready", None))  # imports done: from here on, time counts against pictures
    while True:
        try:
            data, config, budget, focus = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", render(data, config, budget, focus)))
        except BadImage as exc:
            if _is_memory(exc):
                conn.send(("memory", str(exc)))
                return  # a fresh worker takes the next picture
            conn.send(("bad", exc))
        except MemoryError:
            conn.send(("memory", "MemoryError"))
            return


def _is_memory(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, MemoryError) or any(
        word in str(exc).lower() for word in _MEMORY_WORDS)


def _data_segment() -> int:
    """This process's data segment now (VmData), what RLIMIT_DATA is measured against."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


class RenderWorker:
    """A warm worker process that renders one picture at a time; `render` is thread-safe
    (pictures queue for the worker)."""

    def __init__(self, memory_mb: int | None = None):
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._process = None
        self._conn = None

    def __call__(self, data: bytes, config: Config, limit: TimeLimit | None = None,
                 focus: FocalPoint | None = None) -> Rendition:
        limit = limit or TimeLimit.budget_of(config)
        with self._lock:
            try:
                return self._attempt(data, config, limit, focus)
            except _WorkerOutOfMemory:
                pass  # once more in a fresh worker: the old heap may have been fragmented
            try:
                return self._attempt(data, config, limit, focus)
            except _WorkerOutOfMemory as exc:
                raise OutOfMemory(
                    f"Rendering ran out of memory: one picture may use {self.memory_mb} MB "
                    f"here ({exc}); the image is too large to render with this function's "
                    "memory (raise -c memoryMb, or lower max_pixels)."
                ) from None

    def warm_up(self) -> None:
        """Start the worker now rather than at the first picture."""
        with self._lock:
            self._start()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _attempt(self, data: bytes, config: Config, limit: TimeLimit,
                 focus: FocalPoint | None) -> Rendition:
        conn = self._start()
        budget = min(config.time_budget, limit.seconds)
        conn.send((data, config, budget, focus))
        if not conn.poll(max(limit.seconds, 0.0)):
            self._stop()
            raise TooSlow(
                f"Processing took longer than {limit.reason}; the image is too large or "
                "complex to render in time."
            )
        try:
            kind, value = conn.recv()
        except (EOFError, OSError):
            code = self._stop()
            raise _WorkerOutOfMemory(f"the worker stopped with {_exit_words(code)}") from None
        if kind == "ok":
            return value
        if kind == "memory":
            self._stop()
            raise _WorkerOutOfMemory(value)
        raise value

    def _start(self):
        if self._process is None or not self._process.is_alive():
            self._stop()
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe(duplex=True)
            memory = self.memory_mb * MIB if self.memory_mb else None
            self._process = context.Process(target=_serve, args=(theirs, memory),
                                            name="imgproc-render", daemon=True)
            self._process.start()
            theirs.close()
            self._conn = ours
            try:
                ready = ours.poll(STARTUP_SECONDS) and ours.recv()[0] == "ready"
            except (EOFError, OSError):
                ready = False
            if not ready:
                code = self._stop()
                raise TransientError(
                    f"The render worker did not start within {STARTUP_SECONDS} s "
                    f"({_exit_words(code)}).")
        return self._conn

    def _stop(self) -> int | None:
        process, conn, self._process, self._conn = self._process, self._conn, None, None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(5)
        return process.exitcode


class _WorkerOutOfMemory(Exception):
    pass


def _exit_words(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def worker_memory_mb(env=os.environ) -> int | None:
    """What one picture may use: IMGPROC_WORKER_MEMORY_MB, else the function's memory less
    what the function's own process needs (None off Lambda: no cap)."""
    from .. import envvars

    if env.get(envvars.WORKER_MEMORY_MB):
        return int(env[envvars.WORKER_MEMORY_MB])
    function_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if not function_mb:
        return None
    return max(256, int(function_mb) - FUNCTION_PROCESS_MB)



_shared: dict[int | None, RenderWorker] = {}


def shared_worker(memory_mb: int | None) -> RenderWorker:
    """One warm worker per process (and memory cap): every pipeline of a container uses it."""
    if memory_mb not in _shared:
        _shared[memory_mb] = RenderWorker(memory_mb)
    return _shared[memory_mb]
