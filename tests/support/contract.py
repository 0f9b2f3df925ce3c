"""The contract's default variants as a user finds them, written out once for every test.

Not read from `imgproc.config`: a change to the defaults must fail a test, not move with it.
"""

# name -> file extension, in the contract's order
DEFAULT_VARIANTS = {
    "thumbnail": "jpg",
    "small": "jpg",
    "medium": "jpg",
    "large": "jpg",
    "webp-medium": "webp",
    "webp-large": "webp",
}
# What `processed/{key}/` holds after a COMPLETE render, sorted by name
OUTPUT_FILES = sorted([f"{name}.{ext}" for name, ext in DEFAULT_VARIANTS.items()]
                      + ["manifest.json"])
