"""The key layout: where an original's variants, manifest and records live.

`processed/{original key}/{variant}.{ext}`: every original owns one prefix, so two originals
never share a variant key and deleting an original's outputs is deleting one prefix.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

from .config import Config, Variant
from .errors import BadKey, ConfigError
from .formats import UNREAD_IMAGE_FORMATS, UPLOAD_EXTENSIONS

MAX_KEY_BYTES = 1024  # S3's own limit
MANIFEST = "manifest.json"
SMOKE_FOLDER = "imgproc-smoke"  # `imgproc smoke` uploads (and deletes) only below this
REPORT_FOLDER = "imgproc-reports/"  # Batch Operations' reports and the manifests imgproc writes


def is_output(key: str, config: Config) -> bool:
    """Anything under the output prefix is never processed again, whatever triggers it."""
    return key.startswith(config.output_prefix)


def is_candidate(key: str) -> bool:
    """Worth opening: an image extension (any case, read or not) or no extension at all.

    Keys without an extension are candidates too (many apps store uploads under generated
    names); the content decides either way. Image formats imgproc does not read are
    candidates so that they get a FAILED record saying so; other names (.pdf, .txt) are not.
    """
    extension = extension_of(key)
    return extension is None or extension in UPLOAD_EXTENSIONS \
        or extension in UNREAD_IMAGE_FORMATS


def extension_of(key: str) -> str | None:
    """The file name's extension in lower case; None without one."""
    name = key.rsplit("/", 1)[-1]
    if "." not in name.lstrip("."):
        return None
    return name.rsplit(".", 1)[-1].lower()


def smoke_prefix(config: Config) -> str:
    return f"{config.input_prefix}{SMOKE_FOLDER}/"


def report_prefix(config: Config) -> str:
    """Where Batch Operations jobs read the manifests imgproc writes and put their completion
    reports: outside the input and output prefixes, so nothing there is processed or served."""
    for name, prefix in (("input", config.input_prefix), ("output", config.output_prefix)):
        if REPORT_FOLDER.startswith(prefix) or prefix.startswith(REPORT_FOLDER):
            raise ConfigError(f"config: the {name} prefix {prefix!r} overlaps the report prefix "
                              f"{REPORT_FOLDER!r} that Batch Operations jobs write to.")
    return REPORT_FOLDER


def output_prefix_of(key: str, config: Config) -> str:
    return f"{config.output_prefix}{key}/"


def is_own_output(key: str, output_key: str, config: Config) -> bool:
    """Whether `output_key` is one of `key`'s own outputs: directly in its folder.

    `processed/uploads/alice/` also holds `processed/uploads/alice/cat.jpg/…`, the outputs of
    the longer key `uploads/alice/cat.jpg`; those are one folder deeper, never `key`'s.
    """
    prefix = output_prefix_of(key, config)
    return output_key.startswith(prefix) and "/" not in output_key[len(prefix):]


def variant_key(key: str, variant: Variant, config: Config) -> str:
    return f"{output_prefix_of(key, config)}{variant.name}.{variant.extension}"


def manifest_key(key: str, config: Config) -> str:
    return f"{output_prefix_of(key, config)}{MANIFEST}"


def original_of(output_key: str, config: Config) -> str | None:
    """The original key an output object belongs to (its folder under the output prefix)."""
    if not is_output(output_key, config) or "/" not in output_key[len(config.output_prefix) :]:
        return None
    return output_key[len(config.output_prefix) :].rsplit("/", 1)[0]


def error_id(key: str) -> str:
    return f"error#{key}"


def placeholder_id(key: str) -> str:
    return f"{key}#placeholder"


def metadata_value(key: str) -> str:
    """S3 metadata is ASCII: the key percent-encoded as UTF-8 (decode with `unquote`)."""
    return quote(key, safe="/")


def decode_event_key(raw: str) -> str:
    """S3 event keys are form-encoded: '+' is a space, '%2B' a plus, UTF-8 throughout."""
    return unquote_plus(raw, encoding="utf-8", errors="strict")


def is_storable_key(key: str) -> bool:
    try:
        check_key(key)
    except BadKey:
        return False
    return True


def check_key(key: str) -> str:
    """Refuse keys no store should accept; directory stores add their own path checks."""
    if not key:
        raise BadKey("The key is empty.")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise BadKey(f"The key is {len(key.encode('utf-8'))} bytes, over the limit of 1024 bytes.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise BadKey(f"The key {key!r} contains control characters.")
    if any(part in (".", "..") for part in key.split("/")):
        raise BadKey(
            f"The key {key!r} has a '.' or '..' path segment; browsers collapse those in URLs, "
            "so its pictures would show at another key's address. Rename the upload."
        )
    return key


def output_keys(key: str, config: Config) -> list[str]:
    """Every object `key`'s outputs would be: its variants and its manifest."""
    return [variant_key(key, v, config) for v in config.variants] + [manifest_key(key, config)]


def check_output_keys(key: str, config: Config) -> None:
    """Refuse an original whose outputs could not be stored: S3 keys are at most 1,024 bytes,
    and the outputs add the output prefix, a '/' and the variant's file name."""
    longest = max(output_keys(key, config), key=lambda k: len(k.encode("utf-8")))
    size = len(longest.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        room = MAX_KEY_BYTES - (size - len(key.encode("utf-8")))
        raise BadKey(
            f"The key is {len(key.encode('utf-8'))} bytes: its outputs' keys would be up to "
            f"{size} bytes, over S3's limit of {MAX_KEY_BYTES} bytes (keys of at most {room} "
            "bytes fit with this configuration)."
        )


def check_upload_key(key: str, config: Config) -> str:
    """A key an upload may use: storable, under the input prefix, with a name the pipeline
    opens (an image extension or none)."""
    check_key(key)
    if not key.startswith(config.input_prefix) or is_output(key, config):
        raise BadKey(f"The key {key!r} must start with the input prefix {config.input_prefix!r}.")
    if key.endswith("/") or not is_candidate(key):
        raise BadKey(f"The key {key!r} is not an image name: the pipeline only opens keys with "
                     "an image extension or none at all.")
    return key
