"""Failures as outcomes: what the Lambda and every batch loop call, so nothing raises past them."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ImgprocError
from ..outcome import Outcome, Result
from .pipeline import Pipeline, Stopwatch
from .process import process_object


def safely(action: Callable[..., Outcome], pipeline: Pipeline, key: str, **options) -> Outcome:
    """Run `process_object` or `remove_object`; failures become outcomes, never exceptions."""
    clock = Stopwatch()
    try:
        return action(pipeline, key, **options)
    except ImgprocError as exc:
        result = Result.RETRY if exc.retryable else Result.FAILED
        return Outcome(key, result, str(exc), exc.error_type, duration_ms=clock.ms())
    except Exception as exc:  # a bug or an unwrapped client error: retrying is the safe side
        return Outcome(key, Result.RETRY, f"{type(exc).__name__}: {exc}", type(exc).__name__,
                       duration_ms=clock.ms())


def process_safely(pipeline: Pipeline, key: str, **options) -> Outcome:
    """`process_object` with transient and unexpected failures as a RETRY outcome."""
    return safely(process_object, pipeline, key, **options)
