"""Scale the decoded picture to each plan's size, reusing larger results for smaller ones.

Variants are resampled largest first; a smaller variant is taken from an earlier, larger
full-frame result when that is at least `CHAIN_RATIO` times its size, instead of from the
decoded picture. Resampling 1200 → 400 reads a ninth of the pixels 2016 → 400 reads.
"""

from __future__ import annotations

from PIL import Image

from .geometry import Plan, scale_box

# Pillow first reduces by an integer factor with a box filter while the remaining ratio stays
# at least this large, then finishes with Lanczos: near-identical output, much less work.
REDUCING_GAP = 3.0
# A larger result is a good enough source when it is at least this many times the target:
# one Lanczos pass at 2:1 or more costs no measurable SSIM (bench/run.py).
CHAIN_RATIO = 2.0


class Resampler:
    """Resamples one decoded picture (possibly shrunk on load) for many plans."""

    def __init__(self, image: Image.Image, full_size: tuple[int, int]):
        self.image = image
        self.full_size = full_size  # of the upright original; plans are in its pixels
        self._whole = (0.0, 0.0, float(full_size[0]), float(full_size[1]))
        self._full_frames: list[tuple[float, Image.Image]] = []  # (scale, unsharpened image)

    def resize(self, plan: Plan) -> Image.Image:
        _scale, source = self._source_for(plan)
        box = scale_box(plan.box, self.full_size, source.size)
        if plan.size == source.size and box == (0, 0, source.width, source.height):
            result = source
        else:
            # Pillow premultiplies RGBA while resampling: transparent pixels never bleed dark
            result = source.resize(plan.size, Image.Resampling.LANCZOS, box=box,
                                   reducing_gap=REDUCING_GAP)
        if plan.box == self._whole:
            self._full_frames.append((plan.size[0] / self.full_size[0], result))
        return result

    def smallest(self) -> Image.Image:
        """The smallest full-frame picture made so far (for placeholders), else the decoded."""
        return min(self._full_frames, key=lambda item: item[0])[1] if self._full_frames \
            else self.image

    def _source_for(self, plan: Plan) -> tuple[float, Image.Image]:
        """(source pixels per full-size pixel, source image)."""
        candidates = [(scale, image) for scale, image in self._full_frames
                      if scale >= plan.scale * CHAIN_RATIO]
        if candidates:
            return min(candidates, key=lambda item: item[0])
        return self.image.width / self.full_size[0], self.image
