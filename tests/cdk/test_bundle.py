"""The Lambda bundle, built as `cdk synth` builds it, and run from the bundle alone.

The bundler runs for x86_64 (this machine) and the runtime's Python, then `python3.13 -I` with
only the bundle on its path (as Lambda puts /var/task) imports `imgproc.lambda_handler` and
handles one SQS-wrapped S3 notification against moto's server. A second, file-only check
builds for arm64, the real target, which cannot run here. Both install the third-party
packages from cdk/requirements-lambda.lock alone, in pip's hash-checking mode: the bundle holds
exactly the lock's versions, and a lock whose hash or pin is wrong stops the build.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from imgproc_cdk.bundling import LOCK_FILE, BundlingError, read_lock
from PIL import Image

from tests.support.contract import OUTPUT_FILES
from tests.support.images import plain_jpeg
from tests.support.requirements import missing

REPO = Path(__file__).resolve().parents[2]
PYTHON = "3.13"  # the function's runtime (cdk: Runtime.PYTHON_3_13)
BUCKET, TABLE, REGION = "bundle-media", "bundle-records", "eu-west-1"
KEY = "uploads/bundle test/Photo 1+2 Über.jpg"  # S3 URL-encodes it in the notification
MINIMAL_PATH = "/usr/bin:/bin"

SCRIPT = r"""
import json, sys
bundle = sys.argv[1]
sys.path[:0] = [bundle]  # what Lambda does with /var/task
import importlib._bootstrap_external as loaders
compiled, source_to_code = [], loaders.SourceLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
loaders.SourceLoader.source_to_code = spy
import PIL, imgproc, pyvips
from imgproc.lambda_handler import handler
assert sys.version_info[:2] == (3, 13), sys.version
for module in (imgproc, PIL, pyvips):
    assert module.__file__.startswith(bundle + "/"), f"{module.__name__} from {module.__file__}"
assert pyvips.API_mode, "pyvips must use the bundled libvips (pyvips-binary), not a system one"
# the bundle's own bytecode ran: not one of its sources was compiled on import
assert not [path for path in compiled if path.startswith(bundle)], compiled[:5]

class Context:
    function_name = "imgproc-bundle"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:imgproc-bundle"
    aws_request_id = "6f1d2a3b-0000-4000-8000-000000000001"

response = handler(json.load(sys.stdin), Context())
print("RESPONSE " + json.dumps(response))
"""


@pytest.fixture(scope="module")
def python313() -> str:
    from imgproc_cdk.bundling import runtime_python

    python = runtime_python(PYTHON)
    if python is None:
        missing(f"no working python{PYTHON} (PATH or ~/.pyenv/versions) to run the bundle with")
    return python


def default_variants_toml() -> str:
    """The default variants written out as a user's file would list them."""
    from imgproc.config import Config

    blocks = []
    for v in Config().variants:
        lines = [f'name = "{v.name}"', f"width = {v.width}", f'fit = "{v.fit}"',
                 f'format = "{v.format}"', f"quality = {v.quality}"]
        if v.height is not None:
            lines.insert(2, f"height = {v.height}")
        blocks.append("[[variant]]\n" + "\n".join(lines))
    return "\n\n".join(blocks)


# -c config=: the defaults plus one 1600-wide variant, another input prefix, a 5 MiB limit
DEPLOYED_CONFIG = (f'# the deployment\'s own\ninput_prefix = "media/"\nmax_image_size = 5242880\n\n'
                   f'{default_variants_toml()}\n\n[[variant]]\nname = "hero"\nwidth = 1600\n'
                   f'format = "webp"\nquality = 80\n').encode()


def build_bundle(output: Path, platform: str, config_file: Path | None = None,
                 lock_file: Path | None = None) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if str(REPO / "cdk") not in sys.path:
        sys.path.insert(0, str(REPO / "cdk"))
    from imgproc_cdk.bundling import build_bundle as build

    build(output, project_root=REPO, platform=platform, python_version=PYTHON,
          config_file=config_file, lock_file=lock_file)


def installed_versions(bundle: Path) -> dict[str, str]:
    """name → version of every distribution in the bundle, from its METADATA."""
    found = {}
    for metadata in bundle.glob("*.dist-info/METADATA"):
        fields = dict(line.split(": ", 1) for line in metadata.read_text().splitlines()
                      if line.startswith(("Name: ", "Version: ")))
        found[re.sub(r"[-_.]+", "-", fields["Name"]).lower()] = fields["Version"]
    return found


def assert_exactly_the_lock(bundle: Path) -> None:
    locked = {name: pin.version for name, pin in read_lock(REPO / LOCK_FILE).items()}
    installed = installed_versions(bundle)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert installed.pop("imgproc", None) == version  # ours, from the wheel built here
    assert installed == locked  # and nothing else: each package at its locked version


@pytest.fixture(scope="module")
def x86_bundle(tmp_path_factory) -> Path:
    """Built as `cdk synth -c config=imgproc.toml` builds it: the config file at its root."""
    config = tmp_path_factory.mktemp("config") / "imgproc.toml"
    config.write_bytes(DEPLOYED_CONFIG)
    bundle = tmp_path_factory.mktemp("bundle-x86_64")
    build_bundle(bundle, "manylinux_2_28_x86_64", config_file=config)
    return bundle


def sqs_event(key: str, size: int, etag: str) -> dict:
    """What the queue hands Lambda: one message whose body is S3's ObjectCreated:Put."""
    body = json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "imgproc-uploads",
               "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag,
                          "sequencer": "0055AED6DCD90281E5"}},
    }]})
    return {"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661970000001", "receiptHandle": "AQEBwJnKyrHi",
        "body": body, "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(), "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:imgproc-uploads",
        "awsRegion": REGION,
    }]}


def assert_lambda_ready(bundle: Path, arch: str) -> None:
    assert (bundle / "PIL" / f"_imaging.cpython-313-{arch}-linux-gnu.so").is_file()
    assert (bundle / "_libvips.abi3.so").is_file()
    assert list((bundle / "pyvips_binary.libs").glob("libvips-*.so.*"))
    assert (bundle / "pyvips" / "__init__.py").is_file()  # built here from its sdist
    for package in ("pillow", "pyvips_binary"):
        wheel = (next(bundle.glob(f"{package}-*.dist-info")) / "WHEEL").read_text()
        tags = [line for line in wheel.splitlines() if line.startswith("Tag:")]
        assert tags and all("manylinux" in tag and tag.endswith(arch) for tag in tags), tags
    assert (bundle / "imgproc" / "lambda_handler.py").is_file()
    assert next(bundle.glob("imgproc-*.dist-info/METADATA"))  # importlib.metadata needs it
    assert not (bundle / "bin").exists()


def moto_clients(moto_server: str):
    import boto3

    from tests.aws_fixtures import create_table

    clients = {name: boto3.client(name, endpoint_url=moto_server, region_name=REGION,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
               for name in ("s3", "dynamodb")}
    clients["s3"].create_bucket(Bucket=BUCKET,
                                CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(clients["dynamodb"], TABLE)
    return clients["s3"], clients["dynamodb"]


def handle_in_bundle(bundle: Path, python: str, s3, key: str, moto_server: str, home: Path,
                     **environment: str) -> dict:
    """Lambda's Python, with nothing but the bundle and Lambda's environment, handles the
    notification of `key`; its response."""
    head = s3.head_object(Bucket=BUCKET, Key=key)
    event = sqs_event(key, head["ContentLength"], head["ETag"].strip('"'))
    env = {
        "PATH": MINIMAL_PATH, "LAMBDA_TASK_ROOT": str(bundle),
        "AWS_LAMBDA_FUNCTION_NAME": "imgproc-bundle", "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": moto_server,
        "IMAGE_METADATA_TABLE": TABLE,
        "HOME": str(home),  # not Lambda's, but keeps a developer's ~/.aws out
        **environment,
    }
    # -B: like Lambda's read-only /var/task, nothing is written into the bundle
    run = subprocess.run([python, "-I", "-B", "-c", SCRIPT, str(bundle)],
                         input=json.dumps(event), capture_output=True, text=True, env=env,
                         cwd=bundle, timeout=180, check=False)
    output = f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}"
    assert run.returncode == 0, output
    responses = [line for line in run.stdout.splitlines() if line.startswith("RESPONSE ")]
    assert responses, output
    return json.loads(responses[-1].removeprefix("RESPONSE "))


def outputs_of(s3, key: str) -> dict[str, dict]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"processed/{key}/").get("Contents", [])
    return {o["Key"].rsplit("/", 1)[1]: o for o in listing}


def test_x86_64_bundle_handles_an_sqs_event_on_its_own(x86_bundle, python313, moto_server,
                                                         tmp_path):
    # GIVEN the bundle, and a bucket holding one upload and the records table on moto
    assert_lambda_ready(x86_bundle, "x86_64")
    assert_exactly_the_lock(x86_bundle)
    s3, dynamodb = moto_clients(moto_server)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=plain_jpeg())
    # WHEN Lambda's Python handles its notification from the bundle alone (default config)
    response = handle_in_bundle(x86_bundle, python313, s3, KEY, moto_server, tmp_path)
    # THEN it succeeds, the message is consumed, and the record and variants exist
    assert response == {"batchItemFailures": []}
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": KEY}}, ConsistentRead=True)
    assert item["Item"]["status"]["S"] == "COMPLETE", item
    assert sorted(outputs_of(s3, KEY)) == OUTPUT_FILES
    pyc = f"lambda_handler.cpython-{PYTHON.replace('.', '')}.pyc"
    assert (x86_bundle / "imgproc" / "__pycache__" / pyc).is_file()


def test_the_deployments_config_travels_in_the_bundle(x86_bundle, python313, moto_server,
                                                      tmp_path):
    from imgproc_cdk.bundling import CONFIG_IN_BUNDLE

    # the file, byte for byte, where the stack's IMGPROC_CONFIG points (/var/task/imgproc.toml)
    bundled = x86_bundle / CONFIG_IN_BUNDLE
    assert bundled.read_bytes() == DEPLOYED_CONFIG
    s3, dynamodb = moto_clients(moto_server)
    key = "media/u1/wide.jpg"
    s3.put_object(Bucket=BUCKET, Key=key, Body=plain_jpeg(2400, 1600))
    response = handle_in_bundle(x86_bundle, python313, s3, key, moto_server, tmp_path,
                                IMGPROC_CONFIG=str(bundled), MAX_IMAGE_SIZE="5242880")
    assert response == {"batchItemFailures": []}
    outputs = outputs_of(s3, key)
    assert sorted(outputs) == sorted([*OUTPUT_FILES, "hero.webp"])
    hero = s3.get_object(Bucket=BUCKET, Key=f"processed/{key}/hero.webp")
    with Image.open(io.BytesIO(hero["Body"].read())) as picture:
        assert (picture.format, picture.size) == ("WEBP", (1600, 1067))
    # and the 5 MiB limit is the bundle's too: a 6 MB upload is refused with that sentence
    big = "media/u1/big.png"
    s3.put_object(Bucket=BUCKET, Key=big, Body=b"\x89PNG\r\n\x1a\n" + bytes(6_000_000))
    assert handle_in_bundle(x86_bundle, python313, s3, big, moto_server, tmp_path,
                            IMGPROC_CONFIG=str(bundled),
                            MAX_IMAGE_SIZE="5242880") == {"batchItemFailures": []}
    error = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": f"error#{big}"}},
                              ConsistentRead=True)["Item"]
    assert "over the limit of 5.0 MiB" in error["error"]["S"], error


def test_arm64_bundle_carries_aarch64_binaries(tmp_path):
    # the deployed function's target: built the same way, checked by its files only
    build_bundle(tmp_path, "manylinux_2_28_aarch64")
    assert_lambda_ready(tmp_path, "aarch64")
    assert_exactly_the_lock(tmp_path)
    assert not list(tmp_path.rglob("*x86_64*.so"))


def test_a_file_whose_hash_the_lock_does_not_list_is_refused(tmp_path):
    # GIVEN a copy of the lock whose hashes for six are not those of any six file
    text = (REPO / LOCK_FILE).read_text()
    entry = re.search(r"^six==.*?(?=^[a-z0-9])", text, re.M | re.S).group()
    forged = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, entry)
    lock = tmp_path / "forged.lock"
    lock.write_text(text.replace(entry, forged))
    # WHEN the bundle is built from it THEN pip's hash-checking mode stops the install
    with pytest.raises(BundlingError, match=r"(?s)pip install failed.*HASHES"):
        build_bundle(tmp_path / "bundle", "manylinux_2_28_x86_64", lock_file=lock)
    assert not (tmp_path / "bundle" / "PIL").exists()


def test_a_lock_that_does_not_fit_pyproject_stops_the_build_before_pip(tmp_path):
    text = (REPO / LOCK_FILE).read_text()
    pillow = read_lock(REPO / LOCK_FILE)["pillow"].version
    lock = tmp_path / "old.lock"
    lock.write_text(text.replace(f"pillow=={pillow} ", "pillow==12.3.0 "))
    with pytest.raises(BundlingError, match=r"the lock pins pillow==12\.3\.0, outside "
                                            r"pyproject's pillow>=13"):
        build_bundle(tmp_path / "bundle", "manylinux_2_28_aarch64", lock_file=lock)
    assert not (tmp_path / "bundle").exists()
