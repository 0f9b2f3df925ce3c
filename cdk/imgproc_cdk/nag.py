"""cdk-nag AwsSolutions findings we accept, each acknowledged with the reason it does not apply.

Acknowledgments are attached to the one construct they concern (never the whole stack), so a
new resource with the same weakness is still reported.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

from imgproc.keys import report_prefix, smoke_prefix

PREFIX_SCOPED = (
    "Object ARNs end in a key-prefix wildcard (uploads/* to read, processed/* to write): that is "
    "the narrowest resource S3 offers for all objects under a prefix."
)


def suppress_accepted_findings(stack: Stack) -> None:
    if stack.storage.imported:  # a name, not a resource of this stack
        bucket_arn = f"arn:<AWS::Partition>:s3:::{stack.settings.bucket_name}"
        _acknowledge(stack.storage.access_logs, "AwsSolutions-S1",
                     "This is the log bucket (CloudFront's logs); logging it into itself would "
                     "loop. With an existing media bucket, nothing else logs into it.")
    else:
        bucket_arn = f"<{stack.get_logical_id(stack.storage.bucket.node.default_child)}.Arn>"
    for construct in (stack.processing.node.find_child("Access"), stack.operator_policy):
        for prefix in (stack.settings.config.input_prefix, stack.settings.config.output_prefix):
            _acknowledge(construct, f"AwsSolutions-IAM5[Resource::{bucket_arn}/{prefix}*]",
                         PREFIX_SCOPED)
    _acknowledge(stack.operator_policy,
                 f"AwsSolutions-IAM5[Resource::{bucket_arn}/{smoke_prefix(stack.settings.config)}*]",
                 "imgproc smoke deletes its own test uploads, and only those: the narrowest "
                 "prefix S3 offers for them.")
    reports = report_prefix(stack.settings.config)
    for construct, prefix in ((stack.batch_operations.node.find_child("Access"), reports),
                              (stack.operator_policy, reports),
                              (stack.operator_policy, f"{reports}manifests/")):
        _acknowledge(construct, f"AwsSolutions-IAM5[Resource::{bucket_arn}/{prefix}*]",
                     "Batch Operations reports and the manifests imgproc writes live under "
                     f"{reports} (job ids are unknown in advance): the narrowest prefix S3 "
                     "offers for them, outside the originals and variants.")
    _acknowledge(stack.operator_policy, "AwsSolutions-IAM5[Resource::*]",
                 "Resource '*' only for actions with no resource type: "
                 "lambda:ListEventSourceMappings (pause/resume find the mapping), s3:ListJobs, "
                 "and s3:CreateJob (narrowed to LambdaInvoke jobs by s3:RequestJobOperation; "
                 "iam:PassRole allows only the stack's Batch Operations role).")
    _acknowledge(stack.operator_policy,
                 "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:<AWS::Region>:"
                 "<AWS::AccountId>:job/*]",
                 "jobs status follows any job id the operator names; job ids are made by S3 "
                 "when a job is created, so no narrower ARN exists at deploy time.")
    _acknowledge(stack.processing.function, "AwsSolutions-L1",
                 "Python 3.13 is the newest runtime the bundle is smoke-tested on (CI has no "
                 "3.14 interpreter); Pillow and pillow-heif ship 3.14 wheels, so moving is a "
                 "one-line change once it can be tested.")
    distribution = stack.cdn.distribution
    _acknowledge(distribution, "AwsSolutions-CFR4",
                 "With the default *.cloudfront.net certificate CloudFront fixes the viewer "
                 "policy at TLSv1 and ignores any other; a deployment with a custom domain sets "
                 "an ACM certificate and TLS_V1_2_2021 together.")
    Validations.of(stack.cdn).acknowledge(Acknowledgment(
        id="Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
        reason="Intended: the origin sees the bucket by reference so CDK adds no bucket/* grant; "
               "Cdn adds the statement that lets CloudFront read processed/* only."))
    _acknowledge(distribution, "AwsSolutions-CFR1",
                 "Variants are public web images for a worldwide audience; geo restriction is a "
                 "business decision for a deployment, not a safe default.")
    _acknowledge(distribution, "AwsSolutions-CFR2",
                 "The distribution serves immutable images from a private bucket with no "
                 "application behind it; WAF (a fixed monthly cost) is left to deployments "
                 "that need rate limiting.")
    for child in stack.node.children:  # CDK's own singleton that writes bucket notifications
        if child.node.id.startswith("BucketNotificationsHandler"):
            _acknowledge(child, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                         "service-role/AWSLambdaBasicExecutionRole]",
                         "CDK's BucketNotificationsHandler runs once per deploy to write the "
                         "bucket's notification configuration; its role and policy are CDK's.")


def _acknowledge(construct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}",
                                                         reason=reason))
