"""Presigned POSTs: how a browser puts one picture under the input prefix without credentials.

The app's backend signs a form for one key; S3 itself then refuses a body over the size limit
or a non-image content type (the policy's conditions), so a browser can never write anywhere
else or anything larger than the pipeline would accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..errors import BadKey, ConfigError
from ..keys import check_upload_key
from .clients import error_code

IMAGE_TYPES = "image/"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600  # SigV4's own limit
DEFAULT_EXPIRES_SECONDS = 3600


@dataclass(frozen=True)
class PresignedPost:
    """What a browser form needs: POST `fields` (then the file, last) to `url`."""

    url: str
    fields: dict[str, str]

    def as_json(self) -> dict:
        return {"url": self.url, "fields": dict(self.fields)}


def upload_conditions(config: Config, max_bytes: int | None, content_type: str | None,
                      ) -> tuple[dict[str, str], list]:
    """The form's fixed fields and the policy's conditions (size range and image type)."""
    limit = config.max_image_size if max_bytes is None else max_bytes
    if not 1 <= limit <= config.max_image_size:
        raise ConfigError(
            f"--max-bytes must be from 1 to max_image_size ({config.max_image_size} bytes), "
            f"got {limit}."
        )
    conditions: list = [["content-length-range", 1, limit]]
    fields: dict[str, str] = {}
    if content_type is None:
        conditions.append(["starts-with", "$Content-Type", IMAGE_TYPES])
    else:
        if not content_type.startswith(IMAGE_TYPES) or len(content_type) == len(IMAGE_TYPES):
            raise ConfigError(
                f"--content-type must be an image type such as image/jpeg, got {content_type!r}."
            )
        fields["Content-Type"] = content_type
        conditions.append({"Content-Type": content_type})
    return fields, conditions


def presigned_upload(s3, bucket: str, key: str, config: Config, *,
                     max_bytes: int | None = None,
                     expires: int = DEFAULT_EXPIRES_SECONDS,
                     content_type: str | None = None) -> PresignedPost:
    """A presigned POST for `key` (the client decides the endpoint: accelerated or not)."""
    try:
        check_upload_key(key, config)
    except BadKey as exc:
        raise ConfigError(f"Cannot sign an upload: {exc}") from None
    if not 1 <= expires <= MAX_EXPIRES_SECONDS:
        raise ConfigError(
            f"--expires must be from 1 to {MAX_EXPIRES_SECONDS} seconds (7 days), got {expires}."
        )
    fields, conditions = upload_conditions(config, max_bytes, content_type)
    signed = s3.generate_presigned_post(
        Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires
    )
    return PresignedPost(url=signed["url"], fields=dict(signed["fields"]))


def acceleration_enabled(s3, bucket: str) -> bool:
    """Whether the bucket has S3 Transfer Acceleration on (`-c transferAcceleration=true`).

    S3-compatible stores without the feature (MinIO, LocalStack) answer with an error: off.
    """
    from botocore.exceptions import ClientError

    try:
        answer = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("NotImplemented", "MethodNotAllowed", "UnsupportedOperation"):
            return False
        raise
    return answer.get("Status") == "Enabled"
