"""The Lambda handler on moto: every event shape, partial batches, duplicates, ordering, CDN."""

from __future__ import annotations

import io
import json
from urllib.parse import unquote

import pytest
from PIL import Image

from imgproc.lambda_handler import handler
from tests.aws_fixtures import BUCKET, REGION, TABLE, LambdaContext, create_table, load_event
from tests.support.contract import OUTPUT_FILES
from tests.support.images import jpeg_with_orientation, plain_jpeg

KEY = "uploads/u1/My Photo+1 Über.jpg"  # what the fixtures' encoded key decodes to
CONTEXT = LambdaContext()


def get_record(dynamodb, record_id):
    from imgproc.stores.dynamodb import DynamoRecordStore

    return DynamoRecordStore(TABLE).get(record_id)


def variant_keys(s3, key=KEY):
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"processed/{key}/")
    return sorted(item["Key"].rsplit("/", 1)[1] for item in listing.get("Contents", []))


def put(s3, key, data):
    return s3.put_object(Bucket=BUCKET, Key=key, Body=data)


def sqs_event(*bodies):
    event = load_event("sqs_s3_put.json")
    template = event["Records"][0]
    event["Records"] = [
        {**template, "messageId": f"message-{i}", "body": json.dumps(body)}
        for i, body in enumerate(bodies)
    ]
    return event


ALL_VARIANTS = OUTPUT_FILES


@pytest.mark.parametrize("fixture", ["s3_put.json", "eventbridge_created.json", "direct.json"])
def test_each_created_event_shape_processes_the_decoded_key(aws, fixture):
    s3, dynamodb = aws
    put(s3, KEY, jpeg_with_orientation(6))
    handler(load_event(fixture), CONTEXT)
    record = get_record(dynamodb, KEY)
    assert record["status"] == "COMPLETE"
    assert record["originalDimensions"] == {"width": 600, "height": 400}
    assert record["source"]["bucket"] == BUCKET
    assert variant_keys(s3) == ALL_VARIANTS
    head = s3.head_object(Bucket=BUCKET, Key=f"processed/{KEY}/webp-medium.webp")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert unquote(head["Metadata"]["original-key"]) == KEY
    assert head["Metadata"]["variant"] == "webp-medium"
    assert get_record(dynamodb, f"{KEY}#placeholder")["type"] == "BLUR_PLACEHOLDER"
    manifest = s3.get_object(Bucket=BUCKET, Key=f"processed/{KEY}/manifest.json")
    assert manifest["ContentType"] == "application/json"
    assert manifest["CacheControl"].startswith("public, max-age=5")
    body = json.loads(manifest["Body"].read())
    assert body["status"] == "COMPLETE" and BUCKET not in json.dumps(body)


def test_sqs_batch_with_a_bad_picture_consumes_it_and_records_the_error(aws):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    put(s3, "uploads/bad.jpg", b"<html>not an image</html>")
    bad = load_event("s3_put.json")
    bad["Records"][0]["s3"]["object"]["key"] = "uploads/bad.jpg"
    response = handler(sqs_event(load_event("s3_put.json"), bad), CONTEXT)
    assert response == {"batchItemFailures": []}
    assert get_record(dynamodb, KEY)["status"] == "COMPLETE"
    error = get_record(dynamodb, "error#uploads/bad.jpg")
    assert error["errorType"] == "UnsupportedFormat" and error["retryCount"] == 1
    assert error["bucket"] == BUCKET and error["key"] == "uploads/bad.jpg"


@pytest.mark.parametrize("fixture", ["s3_test_event.json", "sqs_test_event.json"])
def test_test_events_are_ignored(aws, fixture):
    _s3, dynamodb = aws
    response = handler(load_event(fixture), CONTEXT)
    assert response in ({"batchItemFailures": []}, {"key": "", "outcome": "IGNORED",
                                                    "durationMs": 0, "message": "s3:TestEvent"})
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_missing_table_is_transient_and_only_that_message_retries(aws, monkeypatch):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    monkeypatch.setenv("IMAGE_METADATA_TABLE", "no-such-table")
    event = sqs_event(load_event("s3_test_event.json"), load_event("s3_put.json"))
    response = handler(event, CONTEXT)
    assert response == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert variant_keys(s3) == []  # the record read fails before anything is rendered
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_duplicate_delivery_gives_the_same_result_once(aws):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    handler(load_event("sqs_s3_put.json"), CONTEXT)
    first = get_record(dynamodb, KEY)
    response = handler(load_event("sqs_s3_put.json"), CONTEXT)
    assert response == {"batchItemFailures": []}
    assert get_record(dynamodb, KEY) == first


def test_an_older_event_after_a_newer_one_changes_nothing(aws):
    s3, dynamodb = aws
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    v1 = put(s3, KEY, plain_jpeg(colour=(255, 0, 0)))
    v2 = put(s3, KEY, plain_jpeg(colour=(0, 0, 255)))
    newer, older = load_event("s3_put.json"), load_event("s3_put.json")
    newer["Records"][0]["s3"]["object"].update(
        eTag=v2["ETag"].strip('"'), versionId=v2["VersionId"], sequencer="0055AED6DCD90281F9")
    older["Records"][0]["s3"]["object"].update(
        eTag=v1["ETag"].strip('"'), versionId=v1["VersionId"], sequencer="0055AED6DCD90281E5")
    handler(newer, CONTEXT)
    recorded = get_record(dynamodb, KEY)
    handler(older, CONTEXT)
    assert get_record(dynamodb, KEY) == recorded
    assert recorded["source"]["versionId"] == v2["VersionId"]
    small = s3.get_object(Bucket=BUCKET, Key=f"processed/{KEY}/small.jpg")["Body"].read()
    assert Image.open(io.BytesIO(small)).getpixel((5, 5))[2] > 200  # still blue (v2)


def test_record_describes_exactly_the_bytes_rendered(aws):
    # GIVEN an event for version 1, delivered after the key was overwritten by version 2
    s3, dynamodb = aws
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    v1 = put(s3, KEY, plain_jpeg(colour=(255, 0, 0)))
    v2 = put(s3, KEY, plain_jpeg(640, 480, colour=(0, 0, 255)))
    event = load_event("s3_put.json")
    event["Records"][0]["s3"]["object"].update(eTag=v1["ETag"].strip('"'),
                                               versionId=v1["VersionId"])
    # WHEN it is handled
    handler(event, CONTEXT)
    # THEN the record's etag and version are those of the pixels in the variants
    record = get_record(dynamodb, KEY)
    small = s3.get_object(Bucket=BUCKET, Key=f"processed/{KEY}/small.jpg")["Body"].read()
    is_blue = Image.open(io.BytesIO(small)).getpixel((5, 5))[2] > 200
    rendered = v2 if is_blue else v1
    assert record["source"]["etag"] == rendered["ETag"].strip('"')
    assert record["source"].get("versionId") == rendered["VersionId"]
    assert "sequencer" not in record["source"] or rendered is v1


def test_late_create_after_delete_resurrects_nothing(aws):
    s3, dynamodb = aws
    response = handler(load_event("sqs_s3_put.json"), CONTEXT)  # the object never existed
    assert response == {"batchItemFailures": []}
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0
    assert variant_keys(s3) == []


def test_object_removed_deletes_variants_and_records(aws):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    handler(load_event("s3_put.json"), CONTEXT)
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    handler(load_event("s3_removed.json"), CONTEXT)
    assert variant_keys(s3) == []
    assert get_record(dynamodb, KEY) is None
    assert get_record(dynamodb, f"{KEY}#placeholder") is None


def test_object_removed_after_a_reupload_deletes_nothing(aws):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    handler(load_event("s3_put.json"), CONTEXT)
    handler(load_event("s3_removed.json"), CONTEXT)  # out of order: the object is still there
    assert variant_keys(s3) == ALL_VARIANTS
    assert get_record(dynamodb, KEY)["status"] == "COMPLETE"


def test_outputs_are_never_processed_whatever_triggers_them(aws):
    s3, dynamodb = aws
    put(s3, f"processed/{KEY}/small.jpg", plain_jpeg())
    response = handler({"bucket": BUCKET, "key": f"processed/{KEY}/small.jpg"}, CONTEXT)
    assert response["outcome"] == "IGNORED"
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_a_put_failing_midway_is_retried_and_nothing_is_complete(aws, monkeypatch):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    from botocore.exceptions import ClientError

    from imgproc.lambda_handler import pipeline_for

    store = pipeline_for(BUCKET).outputs
    real_put, calls = store.s3.put_object, []

    def flaky_put(**kwargs):
        calls.append(kwargs["Key"])
        if len(calls) == 3:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your rate"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(store.s3, "put_object", flaky_put)
    event = sqs_event(load_event("s3_test_event.json"), load_event("s3_put.json"))
    assert handler(event, CONTEXT) == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert get_record(dynamodb, KEY) is None
    assert get_record(dynamodb, f"error#{KEY}") is None
    # the retry succeeds
    assert handler(event, CONTEXT) == {"batchItemFailures": []}
    assert get_record(dynamodb, KEY)["status"] == "COMPLETE"


def test_the_functions_config_file_decides_what_is_made(aws, monkeypatch, tmp_path):
    """IMGPROC_CONFIG reaches the deployed function as it reaches the CLI (one factory)."""
    s3, dynamodb = aws
    config = tmp_path / "imgproc.toml"
    config.write_text('[[variant]]\nname = "hero"\nwidth = 320\nformat = "webp"\n')
    monkeypatch.setenv("IMGPROC_CONFIG", str(config))
    put(s3, KEY, plain_jpeg())
    handler(load_event("direct.json"), CONTEXT)
    assert variant_keys(s3) == ["hero.webp", "manifest.json"]
    record = get_record(dynamodb, KEY)
    assert [(v["name"], v["width"], v["format"]) for v in record["processedVariants"]] == [
        ("hero", 320, "webp")]


def test_cdn_urls_carry_the_content_version(aws, monkeypatch):
    s3, dynamodb = aws
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION", "d111111abcdef8.cloudfront.net")
    response = put(s3, KEY, plain_jpeg())
    handler(load_event("direct.json"), CONTEXT)
    etag = response["ETag"].strip('"')
    urls = [v["url"] for v in get_record(dynamodb, KEY)["processedVariants"]]
    assert urls[0] == ("https://d111111abcdef8.cloudfront.net/processed/uploads/u1/"
                       f"My%20Photo%2B1%20%C3%9Cber.jpg/thumbnail.jpg?v={etag}")


def test_changed_original_invalidates_its_cdn_paths_once(aws, monkeypatch):
    import boto3

    s3, _dynamodb = aws
    cloudfront = boto3.client("cloudfront", region_name=REGION)
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "imgproc-test", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "https-only",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": True,
                                                                  "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })["Distribution"]
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION_ID", distribution["Id"])
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION", distribution["DomainName"])
    put(s3, KEY, plain_jpeg(colour=(255, 0, 0)))
    handler(load_event("direct.json"), CONTEXT)
    handler(load_event("direct.json"), CONTEXT)  # unchanged: no invalidation
    put(s3, KEY, plain_jpeg(colour=(0, 255, 0)))
    handler(load_event("direct.json"), CONTEXT)
    invalidations = cloudfront.list_invalidations(DistributionId=distribution["Id"])
    items = invalidations["InvalidationList"].get("Items", [])
    assert len(items) == 1
    batch = cloudfront.get_invalidation(DistributionId=distribution["Id"], Id=items[0]["Id"])
    paths = batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/processed/uploads/u1/My%20Photo%2B1%20%C3%9Cber.jpg/*"]


def test_logs_are_json_lines_and_metrics_are_emf(aws, capsys, monkeypatch):
    from imgproc import lambda_handler

    log = io.StringIO()
    monkeypatch.setattr(lambda_handler.logger.registered_handler, "stream", log)
    s3, _dynamodb = aws
    put(s3, KEY, plain_jpeg())
    handler(load_event("s3_put.json"), CONTEXT)
    logs = [json.loads(line) for line in log.getvalue().splitlines()]  # every line is JSON
    processed = [line for line in logs if line["message"] == "object processed"]
    assert processed[0]["key"] == KEY and processed[0]["outcome"] == "COMPLETE"
    assert processed[0]["function_request_id"] == CONTEXT.aws_request_id
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    emf = [blob for blob in printed if "_aws" in blob]
    names = {m["Name"] for blob in emf for d in blob["_aws"]["CloudWatchMetrics"]
             for m in d["Metrics"]}
    assert {"Duration", "BytesIn", "BytesOut", "Variants"} <= names


def test_missing_table_in_a_direct_invoke_raises_for_retry(aws, monkeypatch):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    dynamodb.delete_table(TableName=TABLE)
    from imgproc.errors import TransientError

    with pytest.raises(TransientError):
        handler(load_event("direct.json"), CONTEXT)
    create_table(dynamodb)


@pytest.mark.parametrize("code,status", [("SlowDown", 503), ("InternalError", 500),
                                         ("AccessDenied", 403)])
def test_a_failed_head_is_transient_never_does_not_exist(aws, monkeypatch, code, status):
    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    from botocore.exceptions import ClientError

    from imgproc.lambda_handler import pipeline_for

    store = pipeline_for(BUCKET).originals

    def failing_head(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": "nope"},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, "HeadObject")

    monkeypatch.setattr(store.s3, "head_object", failing_head)
    event = sqs_event(load_event("s3_test_event.json"), load_event("s3_put.json"))
    assert handler(event, CONTEXT) == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert dynamodb.scan(TableName=TABLE)["Count"] == 0


def test_remote_reprocess_message_with_force_redoes_an_up_to_date_original(aws):
    from imgproc.aws.fanout import s3_created_message

    s3, dynamodb = aws
    put(s3, KEY, plain_jpeg())
    handler(load_event("direct.json"), CONTEXT)
    before = get_record(dynamodb, KEY)["processedAt"]
    handler(s3_created_message(BUCKET, KEY, None, None), CONTEXT)
    assert get_record(dynamodb, KEY)["processedAt"] == before  # up to date: skipped
    handler(s3_created_message(BUCKET, KEY, None, None, force=True), CONTEXT)
    assert get_record(dynamodb, KEY)["processedAt"] > before
