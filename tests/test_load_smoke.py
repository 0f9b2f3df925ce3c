"""Smoke: `bench/load.py` end to end, small (40 images, 2 workers, 5% faults, under a minute).

The real handler behind SQS batches on moto's server, with a fault proxy, duplicates,
re-uploads and deletes, a prefix pair (`uploads/<u>/<name>` deleted or re-uploaded next to
`uploads/<u>/<name>/<pic>.jpg`), a '.' segment key and an unread format; the scorecard must
say nothing was lost and the command exit 0. A second test checks that the final check
counts each broken expectation of those key shapes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_load_smoke(tmp_path):
    numbers = tmp_path / "load.json"
    command = [
        sys.executable, str(ROOT / "bench" / "load.py"),
        "--images", "40", "--workers", "2", "--fault-rate", "0.05",
        "--delete-rate", "0.15",  # a few deletes even among 40 keys
        "--races", "2",  # a re-upload and a delete while a worker renders
        "--timeout", "90", "--json", str(numbers), "--log-dir", str(tmp_path / "logs"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "120"})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert re.search(r"^\W*lost\W+0\W+PASS", run.stdout, re.MULTILINE), run.stdout
    result = json.loads(numbers.read_text())
    for check in ("lost", "inconsistent", "leftovers", "dead-letter queue", "originals changed"):
        assert result["checks"][check] == 0, check
    plan = result["plan"]
    assert plan["deleted"] > 0 and plan["reuploaded"] > 0
    assert result["faults"]["totalFaults"] > 0
    # the key shapes with rules of their own are in the mix, and kept them
    assert plan["prefixPairs"] >= 1
    assert plan["prefixPairsShortDeleted"] + plan["prefixPairsShortReuploaded"] >= 1
    assert plan["badKeysDotSegments"] >= 1 and plan["unreadFormats"] >= 1
    assert plan["prefixPairsWithProblems"] == plan["badKeysWithProblems"] \
        == plan["unreadWithProblems"] == 0


def _load_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def test_the_final_check_counts_violations_of_the_key_shapes(aws_env, monkeypatch):
    """The checks behind the scorecard, on a world the real pipeline made (moto in-process),
    then broken the ways the new rules forbid: each breakage is counted as lost,
    inconsistent or in the dead-letter queue."""
    import io
    import random

    from moto import mock_aws
    from PIL import Image

    from imgproc.core import process_object
    from imgproc.wiring import PipelineSettings, build_pipeline

    load = _load_module()
    monkeypatch.setenv("AWS_REGION", load.REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", load.REGION)
    rng = random.Random(5)
    picture = [load.make_image(rng, n)[0] for n in range(3)]
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(picture[1])).convert("RGB").save(jpeg, "JPEG")
    bmp = load.UNREAD_KINDS[0][1](rng)
    plans = [
        load.KeyPlan("uploads/p/alice", picture[0], group="pair-short",
                     after="uploads/p/alice/cat.jpg"),
        load.KeyPlan("uploads/p/alice/cat.jpg", jpeg.getvalue(), group="pair-long"),
        load.KeyPlan("uploads/p/x/../alice/cat.jpg", picture[2], bad=True, error_type="BadKey",
                     no_outputs=True, group="bad-key"),
        load.KeyPlan("uploads/p/scan.bmp", bmp, bad=True, error_type="UnsupportedFormat",
                     error_words=("BMP", ".bmp"), group="unread"),
    ]
    with mock_aws():
        stack = load.create_stack(None, 5, cdn=False)
        s3, bucket = stack["s3"], load.BUCKET
        pipeline = build_pipeline(PipelineSettings(bucket=bucket, table=load.TABLE))
        for plan in plans:
            s3.put_object(Bucket=bucket, Key=plan.key, Body=plan.data)
            process_object(pipeline, plan.key)

        def counts() -> dict:
            verifier = load.Verifier(stack)
            verifier.check(plans)
            return verifier.problem_counts()

        assert counts() == {}  # the pipeline keeps every expectation
        # the short key re-processed and deleted: the long one is untouched
        s3.put_object(Bucket=bucket, Key="uploads/p/alice", Body=picture[2])
        process_object(pipeline, "uploads/p/alice")
        s3.delete_object(Bucket=bucket, Key="uploads/p/alice")
        from imgproc.core import remove_object

        remove_object(pipeline, "uploads/p/alice")
        plans[0].deleted = True
        assert counts() == {}

        # a delete of the short key that took the long key's variants: inconsistent
        long_outputs = s3.list_objects_v2(Bucket=bucket, Prefix="processed/uploads/p/alice/")
        s3.delete_object(Bucket=bucket, Key=long_outputs["Contents"][0]["Key"])
        assert counts() == {"inconsistent": 1}
        # a dot-segment key rendered: lost (and its outputs inconsistent)
        records = load.Verifier(stack).records
        dynamodb = stack["dynamodb"]
        from imgproc.stores.dynamodb import to_item

        good = {**records["uploads/p/alice/cat.jpg"], "id": "uploads/p/x/../alice/cat.jpg"}
        dynamodb.put_item(TableName=load.TABLE, Item=to_item(good))
        s3.put_object(Bucket=bucket, Key="processed/uploads/p/x/../alice/cat.jpg/manifest.json",
                      Body=b"{}")
        # an unread format whose sentence does not name it: inconsistent
        unread = records["uploads/p/scan.bmp"]
        dynamodb.put_item(TableName=load.TABLE, Item=to_item(
            {**unread, "error": "The file is not a supported image."}))
        assert counts() == {"inconsistent": 3, "lost": 1}

        # a bad key retried to the dead-letter queue: named as such
        sqs = stack["sqs"]
        body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
            "object": {"key": "uploads/p/x/../alice/cat.jpg"}}}]})
        sqs.send_message(QueueUrl=stack["dead_url"], MessageBody=body)
        depth, about = load.dead_letters(sqs, stack["dead_url"], plans)
        assert depth == 1 and about == ["ObjectCreated:Put 'uploads/p/x/../alice/cat.jpg' "
                                        "[bad-key]"]
