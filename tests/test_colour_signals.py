"""Colour and orientation said by something other than an ICC profile or a JPEG's EXIF:
AVIF/HEIF nclx (SDR and HDR), PNG gAMA/cHRM/cICP, 12-bit JPEG, TIFF orientation.

Every expected colour comes from `tests/support/colour_science` (the standards' formulas) or
from LittleCMS with a profile the tests build; every test also checks the rendering is far
from reading the numbers as plain sRGB, which is what imgproc did before.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from imgproc.config import Config
from imgproc.errors import UnsupportedFormat
from imgproc.render import render
from tests.support import colour_science as cs
from tests.support import icc
from tests.support.colour_images import (
    avif_with_nclx,
    chrm,
    cicp,
    gama,
    hdr_heif,
    png_with_chunks,
    stripe_centres,
    stripes,
    tiff_with_orientation,
    vips_avif,
    with_nclx_property,
)
from tests.support.images import open_bytes, stored_for
from tests.support.pixels import close, colour_at

DEFAULT = Config()
PICTURES = Path(__file__).parent / "pictures"


def small_of(data: bytes) -> Image.Image:
    rendition = render(data, DEFAULT)
    assert not rendition.failures
    return open_bytes(next(v for v in rendition.variants if v.name == "small").data)


def far(actual, naive, distance: int = 20) -> bool:
    """At least `distance` levels away from `naive` in some channel."""
    return max(abs(a - b) for a, b in zip(actual, naive, strict=True)) >= distance


# --- AVIF and HEIF nclx ----------------------------------------------------------------------

PATCHES = [(200, 60, 30), (40, 120, 200), (90, 200, 90), (128, 128, 128)]


@pytest.mark.parametrize(("primaries", "transfer", "space", "decode"), [
    (9, 8, cs.BT2020, lambda code: code / 255),  # BT.2020, linear
    (12, 13, cs.DISPLAY_P3, cs.srgb_decode),  # Display P3
], ids=["bt2020-linear", "display-p3"])
def test_avif_colour_signalled_by_nclx_alone_is_converted_to_srgb(primaries, transfer, space,
                                                                   decode):
    # GIVEN an 8-bit AVIF without ICC whose nclx says BT.2020 linear (or Display P3)
    data = avif_with_nclx(stripes(PATCHES), primaries, transfer)
    # WHEN rendered
    got = stripe_centres(small_of(data), len(PATCHES))
    # THEN each patch is its colour converted to sRGB, not its numbers read as sRGB
    for patch, colour in zip(PATCHES, got, strict=True):
        expected = cs.expected_srgb([decode(c) for c in patch], space)
        assert close(colour, expected, 4), (patch, colour, expected)
    assert any(far(colour, patch) for patch, colour in zip(PATCHES, got, strict=True))


def test_avif_nclx_saying_srgb_is_left_as_it_is():
    data = avif_with_nclx(stripes(PATCHES), 1, 13)
    for patch, colour in zip(PATCHES, stripe_centres(small_of(data), 4), strict=True):
        assert close(colour, patch, 3)


def test_an_icc_profile_wins_over_nclx_in_avif():
    # GIVEN an AVIF with a Display P3 (gamma 2.2) profile and an nclx claiming BT.2020 linear
    data = avif_with_nclx(stripes(PATCHES), 9, 8, icc_profile=icc.DISPLAY_P3_GAMMA22)
    got = stripe_centres(small_of(data), len(PATCHES))
    # THEN the profile decides, as libavif and the browsers do
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc.DISPLAY_P3_GAMMA22))
    for patch, colour in zip(PATCHES, got, strict=True):
        expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), patch), profile,
                                             ImageCms.createProfile("sRGB")).getpixel((0, 0))
        assert close(colour, expected, 4), (patch, colour, expected)
    # and not the nclx (BT.2020 linear would turn every patch far brighter)
    nclx_reading = [cs.expected_srgb([c / 255 for c in p], cs.BT2020) for p in PATCHES]
    assert all(far(c, n) for c, n in zip(got, nclx_reading, strict=True))


def _pq_expected(signal):
    """PQ R'G'B' → cd/m² → BT.2390 EETF to 203 cd/m² → relative to SDR white → sRGB."""
    return cs.expected_srgb([cs.eetf(cs.pq_to_nits(v)) / 203 for v in signal], cs.BT2020)


# Neutral greys at 50, 203 (diffuse white) and 1000 cd/m², and an orange below the knee.
PQ_SIGNALS = [
    (cs.nits_to_pq(50),) * 3,
    (cs.nits_to_pq(203),) * 3,
    (cs.nits_to_pq(1000),) * 3,
    tuple(cs.nits_to_pq(v * 203) for v in (0.30, 0.15, 0.05)),
]


@pytest.mark.parametrize("bits", [10, 12])
def test_pq_hdr_heif_is_tone_mapped_to_sdr(bits):
    # GIVEN a 10- or 12-bit HEIF, BT.2020 primaries and PQ transfer, no ICC
    data = hdr_heif(PQ_SIGNALS, bits, primaries=9, transfer=16)
    # WHEN rendered
    got = stripe_centres(small_of(data), len(PQ_SIGNALS))
    # THEN each patch is what the BT.2390 tone map and BT.2020 → sRGB give
    for signal, colour in zip(PQ_SIGNALS, got, strict=True):
        expected = _pq_expected(signal)
        naive = tuple(round(255 * v) for v in signal)
        assert close(colour, expected, 5), (signal, colour, expected)
        assert far(colour, naive), (colour, naive)
    # diffuse white is light (about 90 % of the signal), the 1000 cd/m² highlight is white
    assert 220 <= got[1][0] <= 235 and got[2] == (255, 255, 255)


def test_pq_avif_is_tone_mapped_to_sdr():
    # GIVEN an 8-bit AVIF (Pillow's libavif) whose nclx says BT.2020 and PQ
    codes = [tuple(round(255 * v) for v in signal) for signal in PQ_SIGNALS]
    data = avif_with_nclx(stripes(codes), 9, 16)
    got = stripe_centres(small_of(data), len(codes))
    for code, colour in zip(codes, got, strict=True):
        expected = _pq_expected([c / 255 for c in code])
        assert close(colour, expected, 5), (code, colour, expected)
        assert far(colour, code)


@pytest.mark.parametrize("bits", [10, 12])
def test_pq_avif_of_10_and_12_bits_is_tone_mapped_to_sdr(bits):
    # GIVEN a 10- or 12-bit AVIF (AV1 by libvips) given a BT.2020/PQ nclx property
    data = with_nclx_property(vips_avif(PQ_SIGNALS, bits), 9, 16)
    got = stripe_centres(small_of(data), len(PQ_SIGNALS))
    for signal, colour in zip(PQ_SIGNALS, got, strict=True):
        expected = _pq_expected(signal)
        assert close(colour, expected, 5), (signal, colour, expected)
        assert far(colour, tuple(round(255 * v) for v in signal))


def test_hlg_hdr_heif_is_tone_mapped_to_sdr():
    # GIVEN a 12-bit HLG HEIF of greys: HLG 0.75 is diffuse white (203 cd/m², BT.2408)
    signals = [(0.25,) * 3, (0.5,) * 3, (0.75,) * 3, (1.0,) * 3]
    got = stripe_centres(small_of(hdr_heif(signals, 12, primaries=9, transfer=18)), 4)
    for (signal, *_), colour in zip(signals, got, strict=True):
        expected = cs.srgb_encode(cs.eetf(cs.hlg_to_nits(signal)) / 203)
        assert close(colour, (expected,) * 3, 5), (signal, colour, expected)
    # HLG's lower part is near SDR by design (the 0.25 and 0.5 greys move a few levels);
    # diffuse white, read as sRGB, would be a mid grey
    assert far(got[2], (191,) * 3, 30), got


# --- PNG gAMA / cHRM / cICP ------------------------------------------------------------------

SWAPPED = ((0.30, 0.60), (0.64, 0.33), (0.15, 0.06))  # sRGB's red and green primaries swapped


def test_png_gama_chrm_with_swapped_primaries_is_converted():
    # GIVEN a PNG whose cHRM swaps sRGB's red and green primaries, gAMA 1/2.2, no iCCP/sRGB
    data = png_with_chunks(stripes(PATCHES), gama(1 / 2.2), chrm(cs.D65, *SWAPPED))
    got = stripe_centres(small_of(data), len(PATCHES))
    # THEN it matches LittleCMS with a profile built (by the tests) from the same chunks
    profile = ImageCms.ImageCmsProfile(io.BytesIO(
        icc.rgb_matrix_profile("swapped", SWAPPED, cs.D65, 2.2)))
    for patch, colour in zip(PATCHES, got, strict=True):
        expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), patch), profile,
                                             ImageCms.createProfile("sRGB")).getpixel((0, 0))
        assert close(colour, expected, 4), (patch, colour, expected)
    # the reddish patch shows green, the green one red: nothing like the untagged reading
    assert got[0][1] > got[0][0] and got[2][0] > got[2][1]


def test_png_gama_alone_means_srgb_primaries_with_that_gamma():
    # GIVEN a linear-light PNG (gAMA 1.0) of greys and colours, no cHRM
    data = png_with_chunks(stripes(PATCHES), gama(1.0))
    for patch, colour in zip(PATCHES, stripe_centres(small_of(data), 4), strict=True):
        expected = tuple(cs.srgb_encode(c / 255) for c in patch)
        assert close(colour, expected, 3), (patch, colour, expected)
        assert far(colour, patch)


def test_png_gama_of_srgb_and_srgb_chunk_leave_the_pixels_alone():
    plain = stripe_centres(small_of(png_with_chunks(stripes(PATCHES))), 4)
    near_srgb = png_with_chunks(stripes(PATCHES), gama(1 / 2.2),
                                chrm(cs.D65, *cs.SRGB))
    srgb_wins = png_with_chunks(stripes(PATCHES), (b"sRGB", b"\x00"), gama(1.0),
                                chrm(cs.D65, *SWAPPED))
    assert stripe_centres(small_of(near_srgb), 4) == plain
    assert stripe_centres(small_of(srgb_wins), 4) == plain


def test_png_cicp_wins_over_iccp_and_gama():
    # GIVEN a PNG with cICP (BT.2020, linear) beside an Adobe RGB iCCP and a gAMA
    data = png_with_chunks(stripes(PATCHES), cicp(9, 8), gama(0.3),
                           icc_profile=icc.ADOBE_RGB)
    for patch, colour in zip(PATCHES, stripe_centres(small_of(data), 4), strict=True):
        expected = cs.expected_srgb([c / 255 for c in patch], cs.BT2020)
        assert close(colour, expected, 4), (patch, colour, expected)


# --- 12-bit JPEG -----------------------------------------------------------------------------


def test_twelve_bit_jpeg_is_refused_by_name():
    data = (PICTURES / "monkey12.jpg").read_bytes()
    with pytest.raises(UnsupportedFormat) as failure:
        render(data, DEFAULT)
    sentence = str(failure.value)
    assert "12-bit JPEG" in sentence and "8-bit" in sentence
    assert "corrupt" not in sentence and "truncated" not in sentence


# --- TIFF orientation ------------------------------------------------------------------------


def _marked(mode: str, width: int, height: int) -> Image.Image:
    """White, with a black top-left quadrant (bilevel) or red/green/blue quadrants (RGB)."""
    if mode == "YCbCr":
        return _marked("RGB", width, height).convert("YCbCr")
    if mode == "1":
        image = Image.new("1", (width, height), 1)
        image.paste(0, (0, 0, width // 2, height // 2))
        return image
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    return image


TIFF_CASES = [("1", c) for c in ("group4", "group3", "raw", "packbits", "tiff_lzw")] + [
    ("RGB", c) for c in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg")] + [
    ("YCbCr", c) for c in ("jpeg", "tiff_lzw")]  # libtiff's JPEG codec; its RGBA reader


@pytest.mark.parametrize(("mode", "compression"), TIFF_CASES,
                         ids=[f"{m}-{c}" for m, c in TIFF_CASES])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_tiff_orientation_is_applied_exactly_once(mode, compression, orientation):
    # GIVEN an upright 590×88 picture stored (e.g. 88×590 for 6) under an Orientation tag
    upright = _marked(mode, 590, 88)
    data = tiff_with_orientation(stored_for(upright, orientation), orientation, compression)
    # WHEN rendered
    rendition = render(data, DEFAULT)
    # THEN the record has the displayed size and the variants are upright
    assert (rendition.width, rendition.height) == (590, 88)
    medium = open_bytes(next(v for v in rendition.variants if v.name == "medium").data)
    assert medium.size == (590, 88)
    top_left, top_right = colour_at(medium, 0.1, 0.2), colour_at(medium, 0.9, 0.2)
    if mode == "1":
        assert max(top_left) < 60 and min(top_right) > 200
    else:
        assert close(top_left, (255, 0, 0), 40) and close(top_right, (0, 255, 0), 40)
        assert close(colour_at(medium, 0.5, 0.8), (0, 0, 255), 40)
