"""Every resource and wiring of the deployed stack, asserted on the synthesised template."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from imgproc import envvars


def only(resources: dict, kind: str, where=lambda r: True) -> dict:
    found = [r for r in resources.values() if r["Type"] == kind and where(r)]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]["Properties"]


def ref_of(resources: dict, kind: str, where=lambda r: True) -> str:
    (logical_id,) = [k for k, r in resources.items() if r["Type"] == kind and where(r)]
    return logical_id


def media_bucket(r):
    return "LoggingConfiguration" in r["Properties"]


# --- storage ------------------------------------------------------------------------------


def test_bucket_is_private_encrypted_and_cleans_up_multipart_uploads(template, resources):
    template.has_resource_properties("AWS::S3::Bucket", {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True,
                                           "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like(
            {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
             "Status": "Enabled"})])},
        "LoggingConfiguration": Match.object_like({"LogFilePrefix": "s3/"}),
    })
    bucket = ref_of(resources, "AWS::S3::Bucket", media_bucket)
    assert resources[bucket]["DeletionPolicy"] == "Retain"


def test_every_bucket_refuses_plain_http(resources):
    policies = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    assert len(policies) == 2
    for policy in policies:
        deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny[0]["Action"] == "s3:*"


# --- records table ----------------------------------------------------------------------


def test_records_table_is_on_demand_with_recovery_and_a_sparse_error_index(template):
    template.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": True}})],
        "GlobalSecondaryIndexes": [{
            "IndexName": "errors",
            "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    })


# --- processing -------------------------------------------------------------------------


def test_function_runtime_architecture_limits_and_environment(resources):
    function = only(resources, "AWS::Lambda::Function",
                    lambda r: r["Properties"].get("Handler") == "imgproc.lambda_handler.handler")
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 1769
    assert function["Timeout"] == 60
    assert function["ReservedConcurrentExecutions"] == 20
    env = function["Environment"]["Variables"]
    assert set(env) >= {envvars.METADATA_TABLE, envvars.CLOUDFRONT_DOMAIN,
                        envvars.CLOUDFRONT_DISTRIBUTION_ID, envvars.MAX_IMAGE_SIZE}
    table = ref_of(resources, "AWS::DynamoDB::GlobalTable")
    distribution = ref_of(resources, "AWS::CloudFront::Distribution")
    assert env[envvars.METADATA_TABLE] == {"Ref": table}
    assert env[envvars.CLOUDFRONT_DOMAIN] == {"Fn::GetAtt": [distribution, "DomainName"]}
    assert env[envvars.CLOUDFRONT_DISTRIBUTION_ID] == {"Ref": distribution}
    assert function["LoggingConfig"]["LogFormat"] == "JSON"


def test_queue_feeds_the_function_with_partial_batch_responses(resources):
    mapping = only(resources, "AWS::Lambda::EventSourceMapping")
    queue = ref_of(resources, "AWS::SQS::Queue", lambda r: "RedrivePolicy" in r["Properties"])
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}
    assert mapping["BatchSize"] == 5


def test_dead_letter_queue_after_five_receives_and_visibility_covers_retries(resources):
    queue = only(resources, "AWS::SQS::Queue", lambda r: "RedrivePolicy" in r["Properties"])
    dead_letters = ref_of(resources, "AWS::SQS::Queue",
                          lambda r: "RedrivePolicy" not in r["Properties"])
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                      "maxReceiveCount": 5}
    assert queue["VisibilityTimeout"] == 360  # 6 × the function timeout
    for props in (queue, resources[dead_letters]["Properties"]):
        assert props["SqsManagedSseEnabled"] is True


def test_uploads_of_every_extension_under_the_input_prefix_notify_the_queue(resources):
    notifications = only(resources, "Custom::S3BucketNotifications")
    queue = ref_of(resources, "AWS::SQS::Queue", lambda r: "RedrivePolicy" in r["Properties"])
    configs = notifications["NotificationConfiguration"]["QueueConfigurations"]
    assert sorted(c["Events"][0] for c in configs) == ["s3:ObjectCreated:*",
                                                        "s3:ObjectRemoved:*"]
    for config in configs:
        assert config["QueueArn"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert config["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix",
                                                             "Value": "uploads/"}]}}


def test_log_retention_is_set(resources):
    log_group = only(resources, "AWS::Logs::LogGroup")
    assert log_group["RetentionInDays"] == 30


# --- CDN --------------------------------------------------------------------------------


def test_cdn_serves_variants_over_https_with_cache_keyed_on_v(resources):
    distribution = only(resources, "AWS::CloudFront::Distribution")["DistributionConfig"]
    policy_id = ref_of(resources, "AWS::CloudFront::CachePolicy")
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert [b.get("PathPattern") for b in distribution["CacheBehaviors"]] == ["processed/*"]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert behaviour["CachePolicyId"] == {"Ref": policy_id}
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    cache = only(resources, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    keys = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keys["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist",
                                          "QueryStrings": ["v"]}
    assert keys["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert cache["DefaultTTL"] == cache["MaxTTL"] == 365 * 24 * 3600
    origin = distribution["Origins"][0]
    assert "OriginAccessControlId" in origin
    assert only(resources, "AWS::CloudFront::OriginAccessControl")[
        "OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert distribution["Logging"]["Prefix"] == "cloudfront/"


def test_cloudfront_may_read_processed_objects_only(resources):
    statements = [s for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"]
                  if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert len(statements) == 1
    (statement,) = statements
    assert statement["Action"] == "s3:GetObject"
    bucket = ref_of(resources, "AWS::S3::Bucket", media_bucket)
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]},
                                                       "/processed/*"]]}
    assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]


# --- monitoring -------------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "statistic", "threshold"), [
    ("Errors", "Sum", 0),
    ("Duration", None, 10000),  # p95, an extended statistic
    ("Throttles", "Sum", 0),
    ("ApproximateNumberOfMessagesVisible", "Maximum", 0),
    ("ApproximateAgeOfOldestMessage", "Maximum", 900),
])
def test_alarms_notify_the_topic(resources, metric, statistic, threshold):
    alarm = only(resources, "AWS::CloudWatch::Alarm",
                 lambda r: r["Properties"]["MetricName"] == metric)
    topic = ref_of(resources, "AWS::SNS::Topic")
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    if statistic:
        assert alarm["Statistic"] == statistic
    else:
        assert alarm["ExtendedStatistic"] == "p95"
    assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_alarm_topic_is_encrypted_and_mails_the_optional_address(resources):
    topic = only(resources, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic
    subscription = only(resources, "AWS::SNS::Subscription")
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == "ops@example.com"
    key = only(resources, "AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    principals = [s["Principal"] for s in key["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals


def test_no_email_subscription_without_the_context_value(tmp_path):
    from aws_cdk.assertions import Template
    from imgproc_cdk.settings import DeploySettings
    from imgproc_cdk.stack import ImgprocStack

    from tests.cdk.conftest import make_app

    app = make_app(tmp_path)
    stack = ImgprocStack(app, "plain", settings=DeploySettings.from_context(app))
    Template.from_stack(stack).resource_count_is("AWS::SNS::Subscription", 0)


# --- outputs ----------------------------------------------------------------------------


def test_outputs_are_what_the_cli_reads(synthesized):
    from imgproc.aws.stack_outputs import OUTPUT_FIELDS

    _stack, outdir = synthesized
    import json

    outputs = json.loads((outdir / "imgproc.template.json").read_text())["Outputs"]
    assert set(OUTPUT_FIELDS) <= set(outputs)


# --- the stack reads the package's Config ------------------------------------------------


def test_default_limits_and_prefixes_are_the_packages_config(resources):
    from imgproc.config import Config

    function = only(resources, "AWS::Lambda::Function",
                    lambda r: r["Properties"].get("Handler") == "imgproc.lambda_handler.handler")
    env = function["Environment"]["Variables"]
    assert env[envvars.MAX_IMAGE_SIZE] == str(Config().max_image_size)


def test_another_config_moves_the_trigger_the_permissions_and_the_limit(tmp_path):
    """Prefixes and the size limit come from `Config`: a stack built with another one
    notifies on its input prefix, grants on its prefixes and tells the function its limit."""
    from aws_cdk.assertions import Template
    from imgproc_cdk.settings import DeploySettings
    from imgproc_cdk.stack import ImgprocStack

    from imgproc.config import Config
    from tests.cdk.conftest import make_app

    config = Config(input_prefix="incoming/", output_prefix="variants/",
                    max_image_size=25 * 1024 * 1024)
    app = make_app(tmp_path)
    stack = ImgprocStack(app, "custom", settings=DeploySettings(config=config))
    resources = Template.from_stack(stack).to_json()["Resources"]
    function = only(resources, "AWS::Lambda::Function",
                    lambda r: r["Properties"].get("Handler") == "imgproc.lambda_handler.handler")
    assert function["Environment"]["Variables"][envvars.MAX_IMAGE_SIZE] == str(25 * 1024 * 1024)
    notifications = only(resources, "Custom::S3BucketNotifications")
    for rule in notifications["NotificationConfiguration"]["QueueConfigurations"]:
        assert rule["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "incoming/"}]
    granted = json.dumps([r for r in resources.values()
                          if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")])
    assert "/incoming/*" in granted and "/variants/*" in granted
    assert "/uploads/*" not in granted and "/processed/*" not in granted
    behaviours = only(resources, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert [b["PathPattern"] for b in behaviours["CacheBehaviors"]] == ["variants/*"]
