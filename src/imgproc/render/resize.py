"""Scale the decoded picture to each plan's size, reusing larger results for smaller ones.

Variants are resampled largest first; a smaller variant is taken from an earlier, larger
full-frame result when that is at least `CHAIN_RATIO` times its size, instead of from the
decoded picture. Resampling 1200 → 400 reads a ninth of the pixels 2016 → 400 reads.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from .geometry import Plan, scale_box

# Pillow first reduces by an integer factor with a box filter while the remaining ratio stays
# at least this large, then finishes with Lanczos: near-identical output, much less work.
REDUCING_GAP = 3.0
# A larger result is a good enough source when it is at least this many times the target:
# at 2:1 or more the second Lanczos pass costs no SSIM; at 1.5:1 WebP loses ~0.001 (bench).
CHAIN_RATIO = 2.0


class Resampler:
    """Resamples one decoded picture (possibly shrunk on load) for many plans.

    `finish` (the deferred sRGB conversion) is applied to each result; chained sources are
    kept unfinished so every pixel is converted exactly once.
    """

    def __init__(self, image: Image.Image, full_size: tuple[int, int],
                 finish: Callable[[Image.Image], Image.Image] = lambda image: image):
        self.image = image
        self.full_size = full_size  # of the upright original; plans are in its pixels
        self.finish = finish
        self._whole = (0.0, 0.0, float(full_size[0]), float(full_size[1]))
        # (scale, unfinished, finished) of every full-frame result, for chaining
        self._full_frames: list[tuple[float, Image.Image, Image.Image]] = []

    def resize(self, plan: Plan) -> Image.Image:
        source = self._source_for(plan)
        box = scale_box(plan.box, self.full_size, source.size)
        if plan.size == source.size and box == (0, 0, source.width, source.height):
            result = source
        else:
            # Pillow premultiplies RGBA while resampling: transparent pixels never bleed dark
            result = source.resize(plan.size, Image.Resampling.LANCZOS, box=box,
                                   reducing_gap=REDUCING_GAP)
        finished = self.finish(result)
        if plan.box == self._whole:
            self._full_frames.append((plan.size[0] / self.full_size[0], result, finished))
        return finished

    def release(self) -> None:
        """Drop the decoded picture and chain sources; keep only what `smallest` returns."""
        if self._full_frames:
            self._full_frames = [min(self._full_frames, key=lambda item: item[0])]
            self.image = self._full_frames[0][1]
        else:
            self.image = self.finish(self.image)
            self.finish = lambda image: image

    def smallest(self) -> Image.Image:
        """The smallest full-frame result so far (for placeholders), else the whole picture."""
        if self._full_frames:
            return min(self._full_frames, key=lambda item: item[0])[2]
        return self.finish(self.image)

    def _source_for(self, plan: Plan) -> Image.Image:
        candidates = [(scale, raw) for scale, raw, _ in self._full_frames
                      if scale >= plan.scale * CHAIN_RATIO]
        return min(candidates, key=lambda item: item[0])[1] if candidates else self.image
