"""Browser uploads through `imgproc presign`: the form posts to S3 (moto's HTTP server) with
plain `requests`, and its policy carries the conditions S3 enforces.

moto 5 accepts any POST form without checking the policy (neither the signature nor the
conditions), so the size and type refusals are asserted on the decoded policy document, the
thing real S3 evaluates; key, bucket and expiry too.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import requests
from click.testing import CliRunner

from imgproc.cli import main
from tests.support.images import plain_jpeg
from tests.support.moto_pipeline import BUCKET, drain_into_handler, imgproc


def presign(stack, *args: str, config=None) -> dict:
    result = imgproc(stack, "presign", *args, config=config)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def policy_of(form: dict) -> dict:
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def post(form: dict, body: bytes, content_type: str = "image/jpeg",
         name: str = "cat.jpg") -> requests.Response:
    """What a browser's FormData POST sends: the fields, Content-Type, then the file last."""
    fields = {**form["fields"]}
    fields.setdefault("Content-Type", content_type)
    return requests.post(form["url"], data=fields, files={"file": (name, body, content_type)},
                         timeout=30)


def test_a_presigned_form_uploads_a_picture_the_pipeline_then_renders(stack):
    form = presign(stack, "uploads/u1/cat.jpg")
    picture = plain_jpeg()
    answer = post(form, picture)
    assert answer.status_code == 204, answer.text
    stored = stack.s3.get_object(Bucket=BUCKET, Key="uploads/u1/cat.jpg")
    assert stored["Body"].read() == picture
    # the upload is an ordinary upload: S3 notifies, the handler renders it
    assert drain_into_handler(stack) == {"batchItemFailures": []}
    record = json.loads(imgproc(stack, "--json", "status", "uploads/u1/cat.jpg").stdout)
    assert record["status"] == "COMPLETE"


def test_the_policy_limits_size_type_key_and_time(stack):
    form = presign(stack, "uploads/u1/cat.jpg", "--max-bytes", "5000000", "--expires", "600")
    policy = policy_of(form)
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 5000000] in conditions  # S3: EntityTooLarge above it
    assert ["starts-with", "$Content-Type", "image/"] in conditions  # text/html is refused
    assert {"key": "uploads/u1/cat.jpg"} in conditions  # exactly this key, nothing else
    assert {"bucket": BUCKET} in conditions
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 590 <= (expires - datetime.now(UTC)).total_seconds() <= 610


def test_the_default_limit_is_max_image_size_and_an_exact_type_can_be_required(stack, tmp_path):
    config = tmp_path / "imgproc.toml"
    config.write_text('input_prefix = "media/"\nmax_image_size = 5242880\n')
    form = presign(stack, "media/p.png", "--content-type", "image/png", config=config)
    conditions = policy_of(form)["conditions"]
    assert ["content-length-range", 1, 5242880] in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert form["fields"]["Content-Type"] == "image/png"


def test_presign_refuses_what_the_pipeline_would_not_take(stack, tmp_path):
    cases = {
        ("notes/cat.jpg",): "must start with the input prefix 'uploads/'",
        ("processed/uploads/x.jpg",): "must start with the input prefix",
        ("uploads/readme.txt",): "image extension or none",
        ("uploads/u1/",): "image extension or none",
        ("uploads/a.jpg", "--max-bytes", "20000000"): "max_image_size (10485760 bytes)",
        ("uploads/a.jpg", "--content-type", "text/html"): "must be an image type",
        ("uploads/a.jpg", "--expires", "0"): "--expires must be from 1 to 604800",
        ("uploads/" + "x" * 1020 + ".jpg",): "over the limit of 1024 bytes",
    }
    for args, sentence in cases.items():
        result = imgproc(stack, "presign", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert sentence in " ".join(result.stderr.split()), (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_an_accelerated_bucket_gets_the_accelerated_endpoint(aws):
    # in-process moto: botocore refuses acceleration with a custom endpoint, as against AWS
    s3, _ = aws
    plain = CliRunner().invoke(main, ["--bucket", "imgproc-test-bucket", "presign",
                                      "uploads/a.jpg"])
    assert plain.exit_code == 0, plain.output
    assert "s3-accelerate" not in json.loads(plain.stdout)["url"]
    s3.put_bucket_accelerate_configuration(
        Bucket="imgproc-test-bucket", AccelerateConfiguration={"Status": "Enabled"})
    fast = CliRunner().invoke(main, ["--bucket", "imgproc-test-bucket", "presign",
                                     "uploads/a.jpg"])
    assert fast.exit_code == 0, fast.output
    assert json.loads(fast.stdout)["url"] == "https://imgproc-test-bucket.s3-accelerate.amazonaws.com/"


def test_a_store_without_acceleration_counts_as_off():
    """MinIO and LocalStack answer GetBucketAccelerateConfiguration with NotImplemented."""
    from botocore.exceptions import ClientError

    from imgproc.aws.uploads import acceleration_enabled

    class NoAcceleration:
        def get_bucket_accelerate_configuration(self, Bucket):
            raise ClientError({"Error": {"Code": "NotImplemented"}},
                              "GetBucketAccelerateConfiguration")

    assert acceleration_enabled(NoAcceleration(), "media") is False
