"""Cold start of the Lambda handler: module import (with client creation), then a first image.

Each run is a fresh Python process, as a new Lambda container is. moto stands in for S3 and
DynamoDB in-process; its own import and setup happen before the clock starts.

    python bench/cold_start.py [--runs 5] [--image PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT_IMAGE = CORPUS / "p04_galaxy_s7edge_12mp.jpg"

CHILD = r"""
import json, os, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                  AWS_REGION="us-east-1", IMAGE_METADATA_TABLE="records",
                  POWERTOOLS_METRICS_NAMESPACE="imgproc", POWERTOOLS_LOG_LEVEL="WARNING")
import boto3
from moto import mock_aws
mock = mock_aws(); mock.start()
s3 = boto3.client("s3"); s3.create_bucket(Bucket="media")
boto3.client("dynamodb").create_table(
    TableName="records", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST")
s3.put_object(Bucket="media", Key="uploads/photo.jpg", Body=open(sys.argv[1], "rb").read())
modules_before = set(sys.modules)
class Context:
    function_name = "bench"; memory_limit_in_mb = 1024; aws_request_id = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:bench"
started = time.perf_counter()
from imgproc.lambda_handler import handler, pipeline_for
imported = time.perf_counter()
pipeline_for("media")  # clients and stores, as the first invocation makes them
ready = time.perf_counter()
out = handler({"bucket": "media", "key": "uploads/photo.jpg"}, Context())
done = time.perf_counter()
assert out["outcome"] == "COMPLETE", out
print(json.dumps({"import_ms": (imported - started) * 1000, "clients_ms": (ready - imported) * 1000,
                  "first_image_ms": (done - ready) * 1000, "total_ms": (done - started) * 1000}))
"""

# The same cold start without any AWS I/O, as the reference flow has none: import (boto3,
# Powertools and Pillow included), client creation, then the first render of the photo.
CHILD_NO_IO = r"""
import json, os, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
                  AWS_REGION="us-east-1", IMAGE_METADATA_TABLE="records",
                  POWERTOOLS_METRICS_NAMESPACE="imgproc", POWERTOOLS_LOG_LEVEL="WARNING")
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
from imgproc.lambda_handler import pipeline_for
from imgproc.render import render
imported = time.perf_counter()
pipeline = pipeline_for("media")
ready = time.perf_counter()
rendition = render(data, pipeline.config)
done = time.perf_counter()
assert len(rendition.variants) == 6
print(json.dumps({"import_ms": (imported - started) * 1000, "clients_ms": (ready - imported) * 1000,
                  "first_image_ms": (done - ready) * 1000, "total_ms": (done - started) * 1000}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    args = parser.parse_args()
    for title, child in (("without I/O (as the reference flow)", CHILD_NO_IO),
                         ("through the handler, moto in-process for S3 and DynamoDB", CHILD)):
        _report(title, [_run(child, args.image) for _ in range(args.runs)], args)


def _run(child: str, image: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", child, str(image)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _report(title: str, runs: list[dict], args) -> None:
    print(f"cold start {title}: {args.runs} fresh processes, {args.image.name} (median ms)")
    print(f"{'phase':<16}{'median':>10}{'min':>10}{'max':>10}")
    for phase in ("import_ms", "clients_ms", "first_image_ms", "total_ms"):
        values = [run[phase] for run in runs]
        print(f"{phase:<16}{statistics.median(values):>10.0f}{min(values):>10.0f}"
              f"{max(values):>10.0f}")
    if "moto" in title:
        boto3_ms = statistics.median(_boto3_import_ms() for _ in range(args.runs))
        print(f"(moto imports boto3 before the clock starts; boto3's own import, measured in "
              f"a fresh process, adds {boto3_ms:.0f} ms to a real cold start)")


def _boto3_import_ms() -> float:
    code = ("import time; t = time.perf_counter(); import boto3; "
            "print((time.perf_counter() - t) * 1000)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout)


if __name__ == "__main__":
    main()
