"""A focal point: where the subject of a picture is, as fractions of the displayed picture.

Cover variants centre their crop on it (clamped to the picture's edges), and pages use it for
CSS `object-position`. It is measured on every render (libvips' attention measure), unless
someone set one for the picture with `imgproc focus`, which then wins for every crop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DIGITS = 4  # 1/10,000 of a side: finer than any crop can move


@dataclass(frozen=True)
class FocalPoint:
    """`x` from the left edge, `y` from the top edge, each 0-1, of the upright picture."""

    x: float
    y: float

    def __post_init__(self) -> None:
        for name, value in (("x", self.x), ("y", self.y)):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0.0 <= value <= 1.0:
                raise ValueError(f"expected the focal point's {name} to be between 0 and 1 "
                                 f"(a fraction of the picture), got {value!r}.")
        object.__setattr__(self, "x", round(float(self.x), DIGITS))
        object.__setattr__(self, "y", round(float(self.y), DIGITS))

    def to_json(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y}

    @classmethod
    def from_json(cls, value: object) -> FocalPoint | None:
        """A record's `{x, y}`, or None for a missing or unreadable one."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(value["x"], value["y"])
        except (KeyError, ValueError, TypeError):
            return None

    @property
    def token(self) -> str:
        """A short, stable name for this point (part of a cover variant's URL version)."""
        return hashlib.sha256(f"{self.x:.4f},{self.y:.4f}".encode()).hexdigest()[:8]


CENTRE = FocalPoint(0.5, 0.5)
