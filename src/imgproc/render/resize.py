"""Scale the decoded picture to each plan's size, reusing larger results for smaller ones.

Variants are resampled largest first; a smaller variant is taken from an earlier, larger
full-frame result when that is at least `CHAIN_RATIO` times its size, instead of from the
decoded picture. Resampling 1200 → 400 reads a ninth of the pixels 2016 → 400 reads.

The Lanczos work is libvips' (vips.resample): the same filter as Pillow's, five times faster.
The picture is resampled as stored and only the results are turned upright, so a rotated photo
never costs a full-size transposed copy (orient).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image

from .colour import unchanged
from .geometry import Plan, scale_box
from .orient import oriented_size, stored_box, upright
from .subject import analysis_copy
from .vips import resample, to_pillow, to_vips

# While the remaining ratio stays at least this large, the integer part of a reduction is
# done with a box filter first, then Lanczos finishes: near-identical output, much less work.
REDUCING_GAP = 3.0
# A larger result is a good enough source when it is at least this many times the target:
# at 2:1 or more the second Lanczos pass costs no SSIM; at 1.5:1 WebP loses ~0.001 (bench).
CHAIN_RATIO = 2.0
# With no full-frame variant (only crops configured), placeholders come from a copy this big.
PLACEHOLDER_SOURCE = 64


class Resampler:
    """Resamples one decoded picture (possibly shrunk on load, as stored) for many plans.

    `finish` (the deferred sRGB conversion) is applied to each result; chained sources are
    kept unfinished so every pixel is converted exactly once. `orientation` is the EXIF
    orientation of the stored pixels; every result is upright.
    """

    def __init__(self, image: Image.Image, full_size: tuple[int, int], plans: list[Plan],
                 finish: Callable[[Image.Image], Image.Image] = unchanged,
                 orientation: int = 1):
        self.full_size = full_size  # of the upright original; plans are in its pixels
        self.orientation = orientation
        self._stored_size = oriented_size(full_size, orientation)
        self.finish = finish
        self._whole = (0.0, 0.0, float(full_size[0]), float(full_size[1]))
        self.mode = image.mode
        # The decoded picture as stored, handed to libvips once (its Pillow copy can then go).
        self._decoded = to_vips(box_reduce(image, full_size, plans, orientation))
        self._analysis = None
        # (scale, unfinished libvips copy as stored, finished upright picture) of every
        # full-frame result
        self._full_frames: list[tuple[float, object, Image.Image]] = []

    def resize(self, plan: Plan) -> Image.Image:
        source = self._source_for(plan)
        box = scale_box(stored_box(plan.box, self.full_size, self.orientation),
                        self._stored_size, (source.width, source.height))
        size = oriented_size(plan.size, self.orientation)
        if size == (source.width, source.height) and box == (0, 0, *size):
            raw = source
        else:
            raw = resample(source, size, box, REDUCING_GAP).copy_memory()
        finished = self._finished(raw)
        if plan.box == self._whole:
            self._full_frames.append((plan.size[0] / self.full_size[0], raw, finished))
        return finished

    def release(self) -> None:
        """Drop the decoded picture and chain sources; keep only what `smallest` returns."""
        if not self._full_frames:  # only crops were made: a small whole picture for placeholders
            scale = min(1.0, PLACEHOLDER_SOURCE / max(self.full_size))
            size = (max(1, round(self._stored_size[0] * scale)),
                    max(1, round(self._stored_size[1] * scale)))
            whole = (0, 0, self._decoded.width, self._decoded.height)
            raw = resample(self._decoded, size, whole, REDUCING_GAP).copy_memory()
            self._full_frames.append((scale, raw, self._finished(raw)))
        self._full_frames = [min(self._full_frames, key=lambda item: item[0])]
        self._decoded = None

    def analysis(self):
        """A small upright copy for finding the subject (render.subject), made once: from the
        smallest full-frame result when there is one (a few hundred pixels to read), else
        from the decoded picture."""
        if self._analysis is None:
            frames = [(scale, raw) for scale, raw, _ in self._full_frames]
            source = min(frames, key=lambda item: item[0])[1] if frames else self._decoded
            self._analysis = analysis_copy(upright(source, self.orientation))
        return self._analysis

    def _finished(self, raw) -> Image.Image:
        """A result as stored, upright and in sRGB."""
        return self.finish(to_pillow(upright(raw, self.orientation), self.mode))

    def smallest(self) -> Image.Image:
        """The smallest full-frame result (for placeholders); call after `release`."""
        return self._full_frames[0][2]

    def _source_for(self, plan: Plan):
        candidates = [(scale, raw) for scale, raw, _ in self._full_frames
                      if scale >= plan.scale * CHAIN_RATIO]
        return min(candidates, key=lambda item: item[0])[1] if candidates else self._decoded


def box_reduce(image: Image.Image, full_size: tuple[int, int], plans: list[Plan],
               orientation: int = 1) -> Image.Image:
    """Shrink by the integer factor every plan allows with `REDUCING_GAP` to spare (box filter).

    What Pillow's own `reducing_gap` does, done once up front: a 100 MP PNG is quartered
    before its pixels are copied for libvips, which bounds the copy's memory. `image` is as
    stored (`orientation`); the plans are upright.
    """
    width, height = oriented_size(image.size, orientation)
    fx, fy = width / full_size[0], height / full_size[1]
    ratios = [min((p.box[2] - p.box[0]) * fx / p.size[0], (p.box[3] - p.box[1]) * fy / p.size[1])
              for p in plans]
    factor = math.floor(min(ratios, default=1.0) / REDUCING_GAP)
    return image.reduce(factor) if factor >= 2 else image
