"""The render path: correct pictures, asserted on pixels rather than bytes."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageStat, JpegImagePlugin

from imgproc.config import Config, Variant
from imgproc.render import render
from tests.support import icc
from tests.support.images import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    cmyk_jpeg,
    encode,
    jpeg_with_gps_and_serial,
    jpeg_with_orientation,
    open_bytes,
    palette_trns_png,
    photo_like,
    png16,
    tagged,
    transparent_png,
    upright_marked,
)
from tests.support.pixels import close, colour_at, dominant_channel

DEFAULT = Config()


def variants_of(data: bytes, config: Config = DEFAULT) -> dict[str, Image.Image]:
    rendition = render(data, config)
    assert not rendition.failures
    return {v.name: open_bytes(v.data) for v in rendition.variants}


def placeholder_image(data_url: str) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert data_url.startswith(prefix)
    return open_bytes(base64.b64decode(data_url[len(prefix):]))


# --- orientation ------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_puts_the_marked_corner_top_left(orientation):
    # GIVEN a 600×400 picture stored rotated/flipped with the matching EXIF orientation
    data = jpeg_with_orientation(orientation)
    # WHEN it is rendered
    rendition = render(data, DEFAULT)
    # THEN the record reports the upright size, and every variant and the placeholder are upright
    assert (rendition.width, rendition.height) == (600, 400)
    for variant in rendition.variants:
        image = open_bytes(variant.data)
        if variant.name != "thumbnail":
            assert image.width > image.height, variant.name
        assert dominant_channel(colour_at(image, 0.1, 0.1)) == "R", variant.name
        assert dominant_channel(colour_at(image, 0.9, 0.1)) == "G", variant.name
        assert dominant_channel(colour_at(image, 0.5, 0.9)) == "B", variant.name
    placeholder = placeholder_image(rendition.placeholder)
    assert placeholder.width > placeholder.height
    assert dominant_channel(colour_at(placeholder, 0.1, 0.1)) == "R"
    assert dominant_channel(colour_at(placeholder, 0.9, 0.9)) == "B"


def test_bogus_orientation_is_ignored_not_fatal():
    exif = Image.Exif()
    exif[0x0112] = 42
    data = encode(upright_marked(), "JPEG", exif=exif.tobytes())
    rendition = render(data, DEFAULT)
    assert (rendition.width, rendition.height) == (600, 400)
    assert len(rendition.variants) == len(DEFAULT.variants)


# --- sizes ---------------------------------------------------------------------------------


def test_thumbnail_is_exactly_the_box_and_wide_variants_bound_width_only():
    images = variants_of(encode(Image.new("RGB", (1000, 2000), BLUE), "JPEG"))
    assert images["thumbnail"].size == (150, 150)
    assert images["small"].size == (400, 800)
    assert images["medium"].size == (800, 1600)
    assert images["large"].size == (1000, 2000)  # 1200 wide would enlarge
    assert images["webp-large"].size == (1000, 2000)


def test_small_images_are_never_enlarged():
    images = variants_of(encode(Image.new("RGB", (120, 90), GREEN), "PNG"))
    for name in ("small", "medium", "large", "webp-medium", "webp-large"):
        assert images[name].size == (120, 90), name


def test_cover_with_gravity_centre_crops_the_centre():
    # a wide picture: red left third, blue middle, green right third (tests/test_focus.py has
    # the default, attention, which crops on the subject instead)
    image = Image.new("RGB", (900, 300), BLUE)
    image.paste(RED, (0, 0, 300, 300))
    image.paste(GREEN, (600, 0, 900, 300))
    centre = Config(variants=(Variant("thumbnail", 150, 150, "cover", gravity="centre"),))
    thumbnail = variants_of(encode(image, "PNG"), centre)["thumbnail"]
    assert thumbnail.size == (150, 150)
    assert close(colour_at(thumbnail, 0.05, 0.5), BLUE, 20)
    assert close(colour_at(thumbnail, 0.95, 0.5), BLUE, 20)


def test_extreme_strip_is_scaled_down_to_webps_limit():
    strip = encode(Image.new("RGB", (8, 20000), RED), "PNG")
    images = variants_of(strip)
    assert max(images["webp-large"].size) <= 16383
    assert images["webp-large"].size[1] == 16383
    assert images["large"].size == (8, 20000)  # JPEG allows it


def test_shrink_on_load_keeps_every_variant_at_full_quality_size():
    # a large JPEG: the decoder may shrink, but never below what the largest variant needs
    data = encode(Image.new("RGB", (4000, 3000), (10, 120, 200)), "JPEG")
    images = variants_of(data)
    assert images["large"].size == (1200, 900)
    assert images["webp-large"].size == (1200, 900)


# --- transparency --------------------------------------------------------------------------


def test_transparency_is_white_in_jpeg_and_kept_in_webp():
    images = variants_of(transparent_png())
    jpeg = images["small"]
    assert jpeg.format == "JPEG" and jpeg.mode == "RGB"
    assert close(colour_at(jpeg, 0.2, 0.5), WHITE, 8)  # not black
    assert close(colour_at(jpeg, 0.8, 0.5), RED, 12)
    webp = images["webp-medium"]
    assert webp.mode == "RGBA"
    assert colour_at(webp, 0.2, 0.5)[3] == 0
    assert colour_at(webp, 0.8, 0.5)[3] == 255


def test_resampling_never_bleeds_the_colour_hidden_under_transparent_pixels():
    # the transparent half hides pure red; every visible edge pixel must stay blue
    image = Image.new("RGBA", (1000, 500), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (500, 0, 1000, 500))
    webp = variants_of(encode(image, "PNG"))["webp-medium"]
    red, _green, blue, alpha = webp.split()
    visible = alpha.point(lambda a: 255 if a >= 16 else 0)
    assert ImageChops.multiply(blue, visible).getextrema()[1] > 200  # the edge is there
    assert ImageChops.multiply(red, visible).getextrema()[1] < 24


def test_background_colour_is_configurable():
    config = Config(background="#000080")
    jpeg = variants_of(transparent_png(), config)["small"]
    assert close(colour_at(jpeg, 0.2, 0.5), (0, 0, 128), 10)


def test_palette_with_trns_keeps_transparency():
    images = variants_of(palette_trns_png())
    assert close(colour_at(images["small"], 0.25, 0.5), WHITE, 8)
    assert close(colour_at(images["small"], 0.75, 0.5), (0, 200, 0), 14)
    webp = images["webp-medium"]
    assert colour_at(webp, 0.25, 0.5)[3] == 0
    assert colour_at(webp, 0.75, 0.5)[3] == 255


def test_png_and_avif_variants_keep_alpha():
    config = Config(variants=(Variant("p", 100, format="png"), Variant("a", 100, format="avif")))
    images = variants_of(transparent_png(), config)
    for name in ("p", "a"):
        assert images[name].mode == "RGBA", name
        assert colour_at(images[name], 0.1, 0.5)[3] == 0, name


# --- colour --------------------------------------------------------------------------------


def test_sixteen_bit_png_keeps_its_brightness():
    # 40000/65535 is 61% grey; a clipping conversion would give white
    images = variants_of(png16(300, 200, gray16=40000))
    assert close(colour_at(images["small"], 0.5, 0.5), (156, 156, 156), 4)
    rgb = variants_of(png16(300, 200, rgb16=(40000, 20000, 65535)))["small"]
    assert close(colour_at(rgb, 0.5, 0.5), (156, 78, 255), 6)


def test_cmyk_without_profile_converts_sensibly():
    cyan = variants_of(cmyk_jpeg((255, 0, 0, 0)))["small"]
    assert cyan.mode == "RGB"
    assert close(colour_at(cyan, 0.5, 0.5), (0, 255, 255), 12)
    black = variants_of(cmyk_jpeg((0, 0, 0, 255)))["small"]
    assert close(colour_at(black, 0.5, 0.5), (0, 0, 0), 12)


def test_cmyk_with_profile_follows_the_profile():
    # the test profile maps pure cyan ink to a teal blue, far from naive (0, 255, 255)
    images = variants_of(cmyk_jpeg((255, 0, 0, 0), icc.SHIFTED_CMYK))
    assert close(colour_at(images["small"], 0.5, 0.5), icc.INKS_SRGB["C"], 8)
    assert close(colour_at(images["webp-medium"], 0.5, 0.5), icc.INKS_SRGB["C"], 8)


@pytest.mark.parametrize("profile", [icc.ADOBE_RGB, icc.DISPLAY_P3_GAMMA22], ids=["adobe", "p3"])
def test_non_srgb_profile_is_converted_to_srgb(profile):
    # GIVEN a photo-like gradient tagged with a wide-gamut profile
    source = Image.radial_gradient("L").resize((400, 300)).convert("RGB")
    source = Image.merge("RGB", (source.getchannel(0), source.point(lambda v: 150).getchannel(0),
                                 source.point(lambda v: 255 - v).getchannel(0)))
    source.paste((100, 150, 80), (0, 0, 200, 150))
    # WHEN rendered
    small = variants_of(tagged(source, profile))["small"]
    # THEN it matches the ICC-correct conversion, not the untagged pixel values
    expected = ImageCms.profileToProfile(
        source.resize(small.size, Image.Resampling.LANCZOS),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
    )
    correct = colour_at(expected, 0.2, 0.2)
    assert close(colour_at(small, 0.2, 0.2), correct, 4)
    assert not close(colour_at(small, 0.2, 0.2), (100, 150, 80), 6)


def test_garbage_icc_profile_is_ignored():
    image = Image.new("RGB", (300, 200), (90, 140, 200))
    data = encode(image, "JPEG", icc_profile=b"not a profile at all" * 10)
    assert close(colour_at(variants_of(data)["small"], 0.5, 0.5), (90, 140, 200), 8)


# --- encoding ------------------------------------------------------------------------------


def mean_error(image: Image.Image, original: Image.Image) -> float:
    truth = original.resize(image.size, Image.Resampling.LANCZOS)
    return sum(ImageStat.Stat(ImageChops.difference(image.convert("RGB"), truth)).mean) / 3


def large_jpeg(data: bytes, quality: int = 90, effort: int = 4) -> bytes:
    variant = Variant("large", 1200, quality=quality, sharpen=False, effort=effort)
    return render(data, Config(variants=(variant,))).variants[0].data


def test_default_jpeg_is_progressive_and_smaller_than_baseline_for_the_same_pixels():
    # effort 4 (the default) is jpegli made progressive losslessly; below 4, jpegli's baseline
    data = encode(photo_like(), "PNG")
    progressive, baseline = large_jpeg(data, effort=4), large_jpeg(data, effort=3)
    assert len(progressive) < 0.97 * len(baseline)
    shown, fast = open_bytes(progressive), open_bytes(baseline)
    assert shown.info.get("progressive") and not fast.info.get("progressive")
    assert ImageChops.difference(shown.convert("RGB"), fast.convert("RGB")).getbbox() is None
    for image in (shown, fast):
        assert "icc_profile" not in image.info and not image.getexif()
        assert JpegImagePlugin.get_sampling(image) == 2  # 4:2:0, as the contract says


def test_default_jpeg_is_as_faithful_as_libjpeg_turbo_in_fewer_bytes():
    # what `quality` meant before jpegli: libjpeg-turbo's picture at the same number
    original = photo_like()
    data = encode(original, "PNG")
    made = large_jpeg(data, quality=85)
    pixels = original.resize((1200, 900), Image.Resampling.LANCZOS)
    turbo = encode(pixels, "JPEG", quality=85, optimize=True, progressive=True)
    assert len(made) < 0.95 * len(turbo)
    assert mean_error(open_bytes(made), original) <= mean_error(open_bytes(turbo), original) + 0.1


def test_a_higher_jpeg_quality_never_gives_a_smaller_or_worse_file():
    original = photo_like(1200, 900)
    data = encode(original, "PNG")
    made = [large_jpeg(data, quality=q) for q in (50, 60, 70, 75, 80, 85, 90, 95, 100)]
    sizes = [len(jpeg) for jpeg in made]
    errors = [mean_error(open_bytes(jpeg), original) for jpeg in made]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes), sizes
    assert errors == sorted(errors, reverse=True), errors


def test_avif_variants_decode_at_their_size_upright_and_without_exif():
    config = Config(variants=(Variant("avif-medium", 800, quality=70, format="avif", effort=1),))
    rendition = render(jpeg_with_gps_and_serial(), config)
    (variant,) = rendition.variants
    assert (variant.format, variant.content_type) == ("avif", "image/avif")
    image = open_bytes(variant.data)
    assert image.format == "AVIF" and image.size == (variant.width, variant.height)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"Exif" not in variant.data and b"GPS" not in variant.data
    assert b"SERIAL" not in variant.data and b"Canon" not in variant.data
    rotated = variants_of(jpeg_with_orientation(6), Config(variants=(
        Variant("a", 300, format="avif", effort=1),)))["a"]
    assert rotated.size == (300, 200)  # stored 400×600 with orientation 6, shown 600×400
    assert close(colour_at(rotated, 0.1, 0.1), RED, 40)
    assert close(colour_at(rotated, 0.9, 0.1), GREEN, 40)


def avif_beside_webp(margin: float, avif_quality: int = 60, webp_quality: int = 85) -> Config:
    return Config(keep_margin=margin, variants=(
        Variant("webp-medium", 800, quality=webp_quality, format="webp"),
        Variant("avif-medium", 800, quality=avif_quality, format="avif", effort=1,
                keep_if_smaller_than="webp-medium"),
    ))


def test_avif_smaller_than_its_webp_sibling_by_the_margin_is_published():
    rendition = render(encode(photo_like(), "PNG"), avif_beside_webp(0.10))
    made = {v.name: v for v in rendition.variants}
    assert set(made) == {"webp-medium", "avif-medium"} and not rendition.withheld
    assert len(made["avif-medium"].data) <= 0.9 * len(made["webp-medium"].data)
    assert not rendition.failures


@pytest.mark.parametrize(("margin", "avif_quality", "webp_quality"), [
    (0.10, 95, 50),  # an AVIF far finer than its WebP is larger
    (0.99, 60, 85),  # the usual pair, with a margin no AVIF can meet
])
def test_avif_not_smaller_than_its_sibling_by_the_margin_is_withheld_not_failed(
        margin, avif_quality, webp_quality):
    config = avif_beside_webp(margin, avif_quality, webp_quality)
    rendition = render(encode(photo_like(), "PNG"), config)
    assert [v.name for v in rendition.variants] == ["webp-medium"]
    assert not rendition.failures
    assert set(rendition.withheld) == {"avif-medium"}
    assert "not smaller than webp-medium" in rendition.withheld["avif-medium"]


# --- metadata never leaks ------------------------------------------------------------------


def test_no_gps_or_exif_in_any_output_and_a_safe_subset_in_the_record():
    rendition = render(jpeg_with_gps_and_serial(), DEFAULT)
    for variant in rendition.variants:
        image = open_bytes(variant.data)
        assert not image.getexif(), variant.name
        assert "exif" not in image.info, variant.name
        assert b"GPS" not in variant.data and b"SERIAL" not in variant.data, variant.name
    assert rendition.exif == {
        "make": "Canon",
        "model": "Canon EOS 450D",
        "dateTaken": "2024:05:01 12:34:56",
        "exposureTime": "1/250",
    }
    assert b"SERIAL" not in base64.b64decode(rendition.placeholder.split(",", 1)[1])


# --- formats and frames --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "TIFF", "AVIF"])
def test_each_accepted_format_renders(fmt):
    data = encode(upright_marked(300, 200), fmt)
    rendition = render(data, DEFAULT)
    assert rendition.format == fmt.lower()
    assert [v.name for v in rendition.variants] == [v.name for v in DEFAULT.variants]
    small = open_bytes(rendition.variants[1].data)
    assert dominant_channel(colour_at(small, 0.1, 0.1)) == "R"


def test_heic_renders():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    data = encode(upright_marked(300, 200), "HEIF", quality=90)
    rendition = render(data, DEFAULT)
    assert rendition.format == "heif"
    assert dominant_channel(colour_at(open_bytes(rendition.variants[1].data), 0.1, 0.1)) == "R"


def test_rendering_imports_only_the_pillow_plugins_it_needs():
    # Pillow's first save of a format it does not pre-load (WebP) would import all of its
    # plugins (Image.init, 20-30 ms of every Lambda cold start); a fresh interpreter shows it
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from imgproc.config import Config\n"
        "from imgproc.render import render\n"
        "from tests.support.images import plain_jpeg\n"
        "assert len(render(plain_jpeg(), Config()).variants) == 6\n"
        "print(sorted(m for m in sys.modules if m.endswith('ImagePlugin')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = run.stdout.strip()
    assert "WebPImagePlugin" in loaded and "PsdImagePlugin" not in loaded, loaded


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (200, 100), colour) for colour in (RED, GREEN, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    small = open_bytes(render(buffer.getvalue(), DEFAULT).variants[1].data)
    assert dominant_channel(colour_at(small, 0.5, 0.5)) == "R"


def test_animated_webp_uses_the_first_frame_with_its_transparency():
    # the first frame covers the left half only; the rest of its canvas is transparent
    first = Image.new("RGBA", (2400, 1200), (0, 0, 0, 0))
    first.paste((255, 0, 0, 255), (0, 0, 1200, 1200))
    second = Image.new("RGBA", (2400, 1200), (0, 0, 255, 255))
    buffer = io.BytesIO()
    first.save(buffer, "WEBP", save_all=True, append_images=[second], duration=100, lossless=True)
    images = variants_of(buffer.getvalue())
    assert images["large"].size == (1200, 600)
    assert close(colour_at(images["large"], 0.25, 0.5), RED, 12)
    assert close(colour_at(images["large"], 0.75, 0.5), WHITE, 8)  # flattened, not blue
    assert colour_at(images["webp-large"], 0.75, 0.5)[3] == 0


def test_webp_orientation_and_profile_are_applied():
    # WebP pixels come from libvips; the EXIF orientation and ICC profile Pillow read still
    # rule: a rotated, Adobe RGB tagged WebP comes out upright and in sRGB
    upright = upright_marked(2400, 1600)
    upright.paste((100, 150, 80), (0, 0, 1200, 800))  # top-left: a colour the profile moves
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(upright.transpose(Image.Transpose.ROTATE_90), "WEBP", lossless=True,
                  exif=exif.tobytes(), icc_profile=icc.ADOBE_RGB)
    large = variants_of(data)["large"]
    assert large.size == (1200, 800)
    expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), (100, 150, 80)),
                                         ImageCms.ImageCmsProfile(io.BytesIO(icc.ADOBE_RGB)),
                                         ImageCms.createProfile("sRGB")).getpixel((0, 0))
    assert close(colour_at(large, 0.1, 0.1), expected, 4)
    assert not close(colour_at(large, 0.1, 0.1), (100, 150, 80), 6)
    assert dominant_channel(colour_at(large, 0.9, 0.1)) == "G"
    assert dominant_channel(colour_at(large, 0.5, 0.9)) == "B"


def test_large_webp_is_shrunk_while_decoding_and_keeps_its_detail():
    # a 4000 px WebP for a 1200 px variant is decoded at half size by libwebp, leaving the
    # last 1.5x to Lanczos, as JPEG's shrink-on-load does; fine grain is the hardest case
    # (mean error: 1.5 levels; 2.6 with no margin left to Lanczos)
    grain = Image.effect_noise((4000, 3000), 60).filter(ImageFilter.GaussianBlur(0.7))
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    data = encode(Image.merge("RGB", [grain, grain.rotate(180), gradient]), "WEBP", quality=95)
    config = Config(variants=(Variant("large", 1200, format="png", sharpen=False),))
    large = open_bytes(render(data, config).variants[0].data).convert("RGB")
    truth = open_bytes(data).convert("RGB").resize(large.size, Image.Resampling.LANCZOS)
    error = sum(ImageStat.Stat(ImageChops.difference(large, truth)).mean) / 3
    assert large.size == (1200, 900) and error < 2.0


# --- placeholders --------------------------------------------------------------------------


def test_placeholders_describe_the_picture():
    rendition = render(encode(Image.new("RGB", (400, 300), (200, 30, 40)), "JPEG"), DEFAULT)
    placeholder = placeholder_image(rendition.placeholder)
    assert max(placeholder.size) <= 20
    assert close(colour_at(placeholder, 0.5, 0.5), (200, 30, 40), 20)
    assert close(bytes.fromhex(rendition.dominant_color[1:]), (200, 30, 40), 16)
    assert 5 <= len(base64.b64decode(rendition.thumbhash)) <= 25


def test_placeholders_show_the_whole_picture_when_only_crops_are_configured():
    # a square thumbnail crops the middle of a red | white | blue picture; the placeholder
    # must still be the whole 2:1 picture, not the crop
    image = Image.new("RGB", (1200, 600), WHITE)
    image.paste(RED, (0, 0, 300, 600))
    image.paste(BLUE, (900, 0, 1200, 600))
    config = Config(variants=(Variant("thumbnail", 150, 150, "cover", 80),))
    rendition = render(encode(image, "PNG"), config)
    placeholder = placeholder_image(rendition.placeholder)
    assert placeholder.size == (20, 10)
    assert dominant_channel(colour_at(placeholder, 0.05, 0.5)) == "R"
    assert dominant_channel(colour_at(placeholder, 0.95, 0.5)) == "B"


# Golden values from the reference JavaScript encoder (npm thumbhash 0.1.1, rgbaToThumbHash)
# for the same synthetic pixels: our port must give the same bytes.
@pytest.mark.parametrize(
    ("width", "height", "alpha", "expected"),
    [
        (17, 29, True, "Y/eFOw4ohqCoeIiQpgjpWHN3cHiHd3c="),
        (32, 24, False, "njYKZZTHoDtxeIiHiHiIdwR1SPSI"),
        (24, 32, True, "n7iFRA4pDwuYp4eHCFaKFn8ldweHd3h3Bw=="),
    ],
)
def test_thumbhash_matches_the_reference_encoder(width, height, alpha, expected):
    from imgproc.render.thumbhash import rgba_to_thumbhash

    pixels = bytes(
        value
        for y in range(height)
        for x in range(width)
        for value in ((x * 15) % 256, (y * 8) % 256, (255 - x * 11) & 255,
                      min(255, (x + y) * 6) if alpha else 255)
    )
    assert base64.b64encode(rgba_to_thumbhash(width, height, pixels)).decode() == expected


# --- real-world sizes: shrink-on-load, chained resampling, rounding ---------------------


@pytest.mark.parametrize(("width", "height", "orientation"), [
    (2725, 2225, 1), (4032, 3024, 6), (2000, 1333, 1), (1024, 772, 1), (3024, 4032, 8),
    (2048, 1536, 3), (4001, 2999, 5), (1201, 7, 1), (5000, 3, 1), (3, 5000, 1),
])
def test_every_variant_is_made_at_its_size_and_upright(width, height, orientation):
    # GIVEN a large JPEG (decoded shrunk, variants chained from larger ones) of an odd size
    upright = upright_marked(width if orientation < 5 else height,
                             height if orientation < 5 else width)
    from tests.support.images import _STORE

    method = _STORE[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    rendition = render(encode(stored, "JPEG", quality=90, exif=exif.tobytes()), DEFAULT)
    # THEN every variant exists, has the planned size, and is upright
    assert rendition.failures == {}
    assert [v.name for v in rendition.variants] == [v.name for v in DEFAULT.variants]
    up_w, up_h = upright.size
    for variant in rendition.variants:
        image = open_bytes(variant.data)
        assert (image.width, image.height) == (variant.width, variant.height)
        spec = DEFAULT.variant(variant.name)
        if spec.fit == "inside":
            expected_w = min(spec.width, up_w)
            assert abs(image.width - expected_w) <= 1, variant.name
            assert abs(image.height - up_h * image.width / up_w) <= 1, variant.name
        if spec.fit == "inside" and min(image.size) >= 8:
            assert dominant_channel(colour_at(image, 0.1, 0.1)) == "R", variant.name
            assert dominant_channel(colour_at(image, 0.5, 0.9)) == "B", variant.name
