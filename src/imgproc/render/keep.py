"""Withhold a variant that does not pay for itself: `keep_if_smaller_than` and `keep_margin`.

An AVIF costs an encode, a CDN object and a second cache entry in every browser's `<picture>`
choice; when it is not smaller than its WebP sibling by the margin, the WebP is what browsers
should get. Withholding is not a failure: the record stays COMPLETE and says why in
`withheldVariants`, and `verify` expects no file for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Config

if TYPE_CHECKING:
    from .pipeline import RenderedVariant


def withhold(variants: list[RenderedVariant], config: Config
             ) -> tuple[list[RenderedVariant], dict[str, str]]:
    """(the variants to publish, {withheld variant: why}), in the config's order.

    The comparison is with the sibling's encoded bytes, published or not; a variant whose
    sibling could not be made is kept (it is the only picture of its kind).
    """
    made = {v.name: v for v in variants}
    withheld: dict[str, str] = {}
    for variant in variants:
        sibling_name = config.variant(variant.name).keep_if_smaller_than
        sibling = made.get(sibling_name) if sibling_name else None
        if sibling is None:
            continue
        limit = len(sibling.data) * (1 - config.keep_margin)
        if len(variant.data) >= limit:
            withheld[variant.name] = (
                f"{len(variant.data):,} bytes, not smaller than {sibling_name} "
                f"({len(sibling.data):,} bytes) by {config.keep_margin:.0%}")
    return [v for v in variants if v.name not in withheld], withheld
