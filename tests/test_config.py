"""Variant configuration: defaults, TOML loading, validation messages, configHash."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imgproc.config import Config, Fit, Variant, load_config, parse_config
from imgproc.errors import ConfigError


def test_defaults_are_the_contracts_table():
    rows = [(v.name, v.width, v.height, v.fit, v.quality, v.format, v.sharpen)
            for v in Config().variants]
    assert rows == [
        ("thumbnail", 150, 150, "cover", 80, "jpeg", False),
        ("small", 400, None, "inside", 85, "jpeg", False),
        ("medium", 800, None, "inside", 85, "jpeg", True),
        ("large", 1200, None, "inside", 90, "jpeg", True),
        ("webp-medium", 800, None, "inside", 85, "webp", True),
        ("webp-large", 1200, None, "inside", 90, "webp", True),
    ]
    config = Config()
    assert (config.input_prefix, config.output_prefix) == ("uploads/", "processed/")
    assert config.max_image_size == 10 * 1024 * 1024 and config.max_pixels == 100_000_000


def test_toml_file_replaces_variants_and_settings(tmp_path):
    path = tmp_path / "imgproc.toml"
    path.write_text(
        'input_prefix = "incoming/"\nbackground = "#000000"\nmax_pixels = 5000000\n'
        '[[variant]]\nname = "hero"\nwidth = 1600\nformat = "avif"\nquality = 60\n'
        '[[variant]]\nname = "square"\nwidth = 96\nheight = 96\nfit = "cover"\n'
    )
    config = load_config(path, env={})
    assert config.input_prefix == "incoming/" and config.background == "#000000"
    assert config.max_pixels == 5_000_000
    hero, square = config.variants
    assert (hero.format, hero.quality, hero.sharpen) == ("avif", 60, True)  # >= 800 sharpens
    assert hero.effort == 4  # the encoders' usual default
    assert (square.width, square.height, square.fit, square.sharpen) == (96, 96, "cover", False)


def test_environment_overrides_max_image_size(tmp_path):
    assert load_config(None, env={"MAX_IMAGE_SIZE": "2048"}).max_image_size == 2048


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[[variant]]\nname = "thumb"\nwidth = 150\nquality = 101\n',
         ["variant 'thumb'", "quality", "between 1 and 100", "101"]),
        ('[[variant]]\nname = "thumb"\nwidth = "wide"\n',
         ["variant 'thumb'", "width", "integer", "'wide'"]),
        ('[[variant]]\nname = "thumb"\nwidth = 150\nformat = "gif"\n',
         ["variant 'thumb'", "format", "jpeg, webp, png, avif", "'gif'"]),
        ('[[variant]]\nname = "thumb"\nwidth = 150\nfit = "cover"\n',
         ["variant 'thumb'", "cover", "height"]),
        ('[[variant]]\nname = "thumb"\nwidth = 150\nqualty = 80\n',
         ["variant 'thumb'", "unknown field 'qualty'"]),
        ('[[variant]]\nname = "a b"\nwidth = 150\n', ["variant #1", "name", "'a b'"]),
        ('[[variant]]\nname = "x"\nwidth = 20000\nformat = "webp"\n',
         ["variant 'x'", "width", "between 1 and 16383", "20000"]),
        ('[[variant]]\nname = "x"\nwidth = 10\n[[variant]]\nname = "x"\nwidth = 20\n',
         ["unique", "'x'"]),
        ('background = "white"\n', ["background", "#ffffff", "'white'"]),
        ('[[variant]]\nname = "x"\nwidth = 10\nformat = "webp"\neffort = 9\n',
         ["variant 'x'", "effort", "between 0 and 6", "9"]),
        ('output_prefix = "uploads/"\n', ["input_prefix", "output_prefix"]),
        ("this is = not toml", ["not valid TOML"]),
        ('[[variant]]\nname = "webp"\nwidth = 800\nformat = "webp"\n'
         '[[variant]]\nname = "avif"\nwidth = 800\nformat = "avif"\n'
         'keep_if_smaller_than = "wepb"\n',
         ["variant 'avif'", "keep_if_smaller_than", "a variant of this config (webp)",
          "'wepb'"]),
        ('[[variant]]\nname = "avif"\nwidth = 800\nkeep_if_smaller_than = "avif"\n',
         ["variant 'avif'", "keep_if_smaller_than", "another variant", "'avif'"]),
        ('[[variant]]\nname = "a"\nwidth = 8\nkeep_if_smaller_than = "b"\n'
         '[[variant]]\nname = "b"\nwidth = 8\nkeep_if_smaller_than = "c"\n'
         '[[variant]]\nname = "c"\nwidth = 8\nkeep_if_smaller_than = "a"\n',
         ["variant 'a'", "keep_if_smaller_than", "cycle a → b → c → a"]),
        ('[[variant]]\nname = "a"\nwidth = 8\nkeep_if_smaller_than = 3\n',
         ["variant 'a'", "keep_if_smaller_than", "another variant", "3 (int)"]),
        ('keep_margin = 10\n', ["keep_margin", "fraction", "0.1 for 10 %", "10 (int)"]),
    ],
)
def test_invalid_config_names_the_problem(tmp_path, toml, words):
    path = tmp_path / "imgproc.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    for word in words:
        assert word in str(caught.value), str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: Variant("hero", 20000, format="webp"),
         ["variant 'hero'", "width", "between 1 and 16383", "20000"]),
        (lambda: Variant("thumb", 150, fit="cover"), ["variant 'thumb'", "cover", "height"]),
        (lambda: Variant("x", 100, fit="fill"), ["variant 'x'", "fit", "cover, inside", "'fill'"]),
        (lambda: Variant("x", 100, format="gif"), ["variant 'x'", "format", "'gif'"]),
        (lambda: Variant("x", 100, quality=0), ["variant 'x'", "quality", "between 1 and 100"]),
        (lambda: Variant("a b", 100), ["variant", "name", "'a b'"]),
        (lambda: Config(variants=()), ["config", "at least one variant"]),
        (lambda: Config(variants=(Variant("x", 10), Variant("x", 20))), ["unique", "'x'"]),
        (lambda: Config(background="white"), ["background", "#ffffff", "'white'"]),
        (lambda: Config(output_prefix="uploads/"), ["input_prefix", "output_prefix"]),
        (lambda: replace(Config(), time_budget=0), ["time_budget", "between 0 and 900"]),
    ],
)
def test_config_built_in_code_is_checked_like_a_file(build, words):
    """A Variant or Config made in Python (or by `replace`) fails with the file's sentences."""
    with pytest.raises(ConfigError) as caught:
        build()
    for word in words:
        assert word in str(caught.value), str(caught.value)


def test_config_built_in_code_is_normalised_like_a_file():
    config = Config(background="#FFAA00", variants=[Variant("sq", 96, 96, fit="cover")])
    assert config.background == "#ffaa00" and isinstance(config.variants, tuple)
    assert config.variants[0].fit == Fit.COVER
    assert config.config_hash == parse_config({
        "background": "#ffaa00",
        "variant": [{"name": "sq", "width": 96, "height": 96, "fit": "cover"}]}).config_hash


def test_config_hash_is_stable_and_tracks_rendering_changes(tmp_path):
    assert Config().config_hash == Config().config_hash == load_config(None, env={}).config_hash
    assert len(Config().config_hash) == 16
    path = tmp_path / "imgproc.toml"
    path.write_text('[[variant]]\nname = "thumbnail"\nwidth = 150\nheight = 150\n'
                    'fit = "cover"\nquality = 81\n')
    assert load_config(path, env={}).config_hash != Config().config_hash
    # limits decide what is accepted, not what comes out: same hash
    assert Config(max_image_size=1).config_hash == Config().config_hash


def test_keep_if_smaller_than_and_keep_margin_are_read_and_hashed(tmp_path):
    path = tmp_path / "imgproc.toml"
    body = ('[[variant]]\nname = "webp-medium"\nwidth = 800\nformat = "webp"\n'
            '[[variant]]\nname = "avif-medium"\nwidth = 800\nformat = "avif"\n'
            'keep_if_smaller_than = "webp-medium"\n')
    path.write_text(body)
    config = load_config(path, env={})
    assert config.variant("avif-medium").keep_if_smaller_than == "webp-medium"
    assert config.keep_margin == 0.10  # the default
    path.write_text("keep_margin = 0.25\n" + body)
    wider = load_config(path, env={})
    assert wider.keep_margin == 0.25 and wider.config_hash != config.config_hash
    # a margin no variant uses changes nothing that is rendered: same hash
    assert replace(Config(), keep_margin=0.3).config_hash == Config().config_hash
