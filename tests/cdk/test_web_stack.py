"""What a web team's first day needs from the stack: CORS on the CDN and the bucket, short
error caching, its own config in the function, an existing bucket, the failure alarm and the
cost switches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imgproc import envvars
from tests.cdk.conftest import CDK_DIR, make_app
from tests.cdk.test_stack import only

HANDLER = "imgproc.lambda_handler.handler"


def synth(tmp_path: Path, **context) -> dict:
    """The template's resources for these context values (bundling skipped), cdk-nag on."""
    from imgproc_cdk.settings import DeploySettings
    from imgproc_cdk.stack import ImgprocStack

    app = make_app(tmp_path / "cdk.out", **context)
    ImgprocStack(app, "web", settings=DeploySettings.from_context(app))
    app.synth()
    return json.loads((tmp_path / "cdk.out" / "web.template.json").read_text())["Resources"]


def function_env(resources: dict) -> dict:
    function = only(resources, "AWS::Lambda::Function",
                    lambda r: r["Properties"].get("Handler") == HANDLER)
    return function["Environment"]["Variables"]


def media_bucket(resources: dict) -> dict:
    return only(resources, "AWS::S3::Bucket", lambda r: "LoggingConfiguration" in r["Properties"])


# --- the CDN --------------------------------------------------------------------------------


def test_cdn_allows_cross_origin_reads_by_default_and_says_nosniff(resources):
    policy = only(resources, "AWS::CloudFront::ResponseHeadersPolicy")
    policy = policy["ResponseHeadersPolicyConfig"]
    cors = policy["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["*"]}
    assert cors["AccessControlAllowMethods"] == {"Items": ["GET", "HEAD"]}
    assert cors["AccessControlAllowCredentials"] is False and cors["OriginOverride"] is True
    assert policy["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}
    config = only(resources, "AWS::CloudFront::Distribution")["DistributionConfig"]
    policy_id = next(k for k, r in resources.items()
                     if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy")
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_missing_objects_are_cached_for_at_most_a_second(resources):
    config = only(resources, "AWS::CloudFront::Distribution")["DistributionConfig"]
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert set(errors) == {403, 404}
    assert all(e["ErrorCachingMinTTL"] <= 1 and "ResponseCode" not in e
               for e in errors.values())


def test_cors_origins_from_context_reach_the_cdn_and_the_bucket(tmp_path):
    origins = "https://app.example.com,https://www.example.com"
    resources = synth(tmp_path, corsOrigins=origins)
    policy = only(resources, "AWS::CloudFront::ResponseHeadersPolicy")
    assert policy["ResponseHeadersPolicyConfig"]["CorsConfig"]["AccessControlAllowOrigins"] == {
        "Items": origins.split(",")}
    rules = media_bucket(resources)["CorsConfiguration"]["CorsRules"]
    assert rules == [{"AllowedHeaders": ["*"], "AllowedMethods": ["POST"],
                      "AllowedOrigins": origins.split(","), "MaxAge": 3600}]


# --- the media bucket -------------------------------------------------------------------------


def test_bucket_takes_browser_posts_and_moves_originals_to_intelligent_tiering(resources):
    props = media_bucket(resources)
    assert props["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"] == ["POST"]
    tiering = [r for r in props["LifecycleConfiguration"]["Rules"] if "Transitions" in r]
    assert tiering == [{"Id": "OriginalsToIntelligentTiering", "Prefix": "uploads/",
                        "Status": "Enabled",
                        "Transitions": [{"StorageClass": "INTELLIGENT_TIERING",
                                         "TransitionInDays": 0}]}]
    assert "AccelerateConfiguration" not in props


def test_standard_storage_and_transfer_acceleration_on_request(tmp_path):
    props = media_bucket(synth(tmp_path, originalsStorageClass="STANDARD",
                               transferAcceleration="true"))
    assert not [r for r in props["LifecycleConfiguration"]["Rules"] if "Transitions" in r]
    assert props["AccelerateConfiguration"] == {"AccelerationStatus": "Enabled"}


def test_an_existing_bucket_is_used_not_created(tmp_path):
    resources = synth(tmp_path, bucketName="legacy-uploads")
    buckets = [r for r in resources.values() if r["Type"] == "AWS::S3::Bucket"]
    assert len(buckets) == 1  # the access-log bucket only
    assert "LoggingConfiguration" not in buckets[0]["Properties"]
    notifications = only(resources, "Custom::S3BucketNotifications")
    assert notifications["BucketName"] == "legacy-uploads"
    assert notifications["Managed"] is False  # the bucket's other notifications are kept
    policy = only(resources, "AWS::S3::BucketPolicy",
                  lambda r: r["Properties"]["Bucket"] == "legacy-uploads")
    statements = {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"TlsOnly", "CloudFrontReadsVariantsOnly"}
    read = statements["CloudFrontReadsVariantsOnly"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Resource"]["Fn::Join"][1][-1] == ":s3:::legacy-uploads/processed/*"
    granted = json.dumps([r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"])
    assert "legacy-uploads/uploads/*" in granted and "legacy-uploads/processed/*" in granted


# --- alarms -----------------------------------------------------------------------------------


def test_permanent_failures_raise_an_alarm(resources, tmp_path):
    alarm = only(resources, "AWS::CloudWatch::Alarm",
                 lambda r: r["Properties"].get("MetricName") == "PermanentFailures")
    props = alarm
    assert (props["Namespace"], props["Statistic"], props["Period"]) == ("imgproc", "Sum", 300)
    assert props["Dimensions"] == [{"Name": "service", "Value": "imgproc"}]
    assert props["Threshold"] == 5 and props["AlarmActions"]
    custom = only(synth(tmp_path, permanentFailureAlarm="20"), "AWS::CloudWatch::Alarm",
                  lambda r: r["Properties"].get("MetricName") == "PermanentFailures")
    assert custom["Threshold"] == 20


# --- the deployment's own config ----------------------------------------------------------------

CUSTOM_CONFIG = """\
input_prefix = "media/"
max_image_size = 5242880

[[variant]]
name = "thumbnail"
width = 150
height = 150
fit = "cover"

[[variant]]
name = "hero"
width = 1600
format = "webp"
"""


def test_config_file_sets_prefixes_limits_and_environment(tmp_path):
    config = tmp_path / "imgproc.toml"
    config.write_text(CUSTOM_CONFIG)
    resources = synth(tmp_path, config=str(config))
    env = function_env(resources)
    assert env[envvars.MAX_IMAGE_SIZE] == "5242880"
    assert env[envvars.CONFIG_FILE] == "/var/task/imgproc.toml"
    notifications = only(resources, "Custom::S3BucketNotifications")
    for rule in notifications["NotificationConfiguration"]["QueueConfigurations"]:
        assert rule["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "media/"}]
    granted = json.dumps([r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"])
    assert "/media/*" in granted and "/uploads/*" not in granted


def test_a_bad_config_file_stops_the_synth_with_the_clis_sentence(tmp_path):
    config = tmp_path / "imgproc.toml"
    config.write_text('[[variant]]\nname = "x"\nwidth = 20000\nformat = "webp"\n')
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=CDK_DIR, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "CDK_CONTEXT_JSON": json.dumps(
            {"config": str(config), "aws:cdk:bundling-stacks": []}),
             "CDK_OUTDIR": str(tmp_path / "out")})
    assert result.returncode == 1
    assert ("imgproc: -c config=" in result.stderr
            and "variant 'x': expected width to be an integer between 1 and 16383, got 20000"
            in result.stderr), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("name", "value", "words"), [
    ("originalsStorageClass", "GLACIER", ["originalsStorageClass", "INTELLIGENT_TIERING"]),
    ("transferAcceleration", "yes", ["transferAcceleration", "true, false"]),
])
def test_bad_context_values_are_named(tmp_path, name, value, words):
    from imgproc_cdk.settings import DeploySettings, SettingsError

    app = make_app(tmp_path, **{name: value})
    with pytest.raises(SettingsError) as caught:
        DeploySettings.from_context(app)
    assert all(word in str(caught.value) for word in words)
