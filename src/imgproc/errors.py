"""One error hierarchy for the whole package.

Every error says whether retrying can help (`retryable`). A bad picture is permanent: it is
recorded and never retried. A throttled or unreachable store is transient: it is raised for
retry and never recorded as the picture's fault. The CLI turns errors into exit codes and the
Lambda into batch failures; nothing below those edges decides either.
"""

from __future__ import annotations

import re
from enum import IntEnum


class ExitCode(IntEnum):
    """The CLI's exit codes, the contract's."""

    OK = 0
    PROBLEM = 1  # an item failed, a check found a problem, or a record is not COMPLETE
    USAGE = 2  # usage or configuration
    TIMEOUT = 3  # `status --wait` gave up


class ImgprocError(Exception):
    """Base of every error imgproc raises on purpose; `str(err)` is one human sentence."""

    retryable = False
    exit_code = ExitCode.PROBLEM

    @property
    def error_type(self) -> str:
        return type(self).__name__


# --- configuration and usage (exit 2) ---------------------------------------------------


class ConfigError(ImgprocError):
    """A configuration value or command-line combination that cannot work."""

    exit_code = ExitCode.USAGE


# --- permanent: the picture itself is bad -------------------------------------------------


class BadImage(ImgprocError):
    """The original cannot be turned into variants; retrying will not change that."""


class EmptyFile(BadImage):
    pass


class UnsupportedFormat(BadImage):
    pass


class CorruptImage(BadImage):
    """Truncated or malformed data of a supported format."""


class FileTooLarge(BadImage):
    pass


class TooManyPixels(BadImage):
    pass


class TooSlow(BadImage):
    """Rendering overran the per-image time budget; checked between steps."""


class OutOfMemory(BadImage):
    """Rendering needed more memory than one picture may use (the worker's limit)."""


class BadKey(BadImage):
    """A key that cannot be stored safely (path escape, control characters, too long)."""


class VariantFailed(BadImage):
    """One variant could not be made; the others still are (the record becomes PARTIAL)."""


# --- transient: the world is temporarily in the way ---------------------------------------


class TransientError(ImgprocError):
    """A store was throttled, unreachable or failed mid-way; the same work can be retried."""

    retryable = True


class StaleWrite(TransientError):
    """A newer version of the original was recorded while this one was being rendered."""


# --- lookups -------------------------------------------------------------------------------


class NotFound(ImgprocError):
    """A key or record the user named does not exist."""


# --- what a library said, fit for a user ----------------------------------------------------

_OBJECT_REPR = re.compile(r"<[^<>]*? at 0x[0-9a-fA-F]+>")


def library_words(exc: Exception) -> str:
    """A decoder's or encoder's reason in at most 200 characters, fit for a user.

    libvips (a pyvips `Error` with a `detail`): the last line of its detail ("webp2vips:
    unable to read pixels" becomes "unable to read pixels"), not pyvips' own "unable to write
    to memory". Anything else: its text with Python object reprs ("<… at 0x…>") removed.
    """
    detail = getattr(exc, "detail", None)
    if isinstance(detail, str):
        lines = [line.strip() for line in detail.splitlines() if line.strip()]
        text = re.sub(r"^\w+: ", "", lines[-1]) if lines else str(getattr(exc, "message", ""))
    else:
        text = _OBJECT_REPR.sub("the data", str(exc)).strip()
    return text[:200] or type(exc).__name__
