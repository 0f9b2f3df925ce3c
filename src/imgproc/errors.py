"""One error hierarchy for the whole package.

Every error says whether retrying can help (`retryable`). A bad picture is permanent: it is
recorded and never retried. A throttled or unreachable store is transient: it is raised for
retry and never recorded as the picture's fault. The CLI turns errors into exit codes and the
Lambda into batch failures; nothing below those edges decides either.
"""

from __future__ import annotations


class ImgprocError(Exception):
    """Base of every error imgproc raises on purpose; `str(err)` is one human sentence."""

    retryable = False
    exit_code = 1

    @property
    def error_type(self) -> str:
        return type(self).__name__


# --- configuration and usage (exit 2) ---------------------------------------------------


class ConfigError(ImgprocError):
    """A configuration value or command-line combination that cannot work."""

    exit_code = 2


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
