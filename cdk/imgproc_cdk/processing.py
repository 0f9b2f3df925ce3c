"""S3 → SQS (with a dead-letter queue) → the imgproc function, with least-privilege access.

Every upload under the input prefix, whatever its extension, reaches the queue: the handler
decides by content and case-insensitive extension, so nothing is silently filtered here.
Only transient failures are retried (`ReportBatchItemFailures`); after `max_receive_count`
deliveries a message waits in the dead-letter queue for an operator.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imgproc import envvars, telemetry

from .bundling import CONFIG_IN_BUNDLE, LAMBDA_TASK_ROOT, lambda_code
from .settings import DeploySettings

RUNTIME = lambda_.Runtime.PYTHON_3_13
HANDLER = "imgproc.lambda_handler.handler"


class Processing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        table: dynamodb.ITableV2,
        distribution_domain: str,
        distribution_arn: str,
        distribution_id: str,
        settings: DeploySettings,
        project_root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Uploads",
            # six times the function timeout, as AWS advises for SQS event sources
            visibility_timeout=Duration.seconds(6 * settings.timeout_seconds),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=settings.max_receive_count
            ),
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="imgproc function: read uploads, write variants and records",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_code(project_root, architecture="arm64",
                             python_version=RUNTIME.name.removeprefix("python"),
                             config_file=settings.config_file),
            memory_size=settings.memory_mb,
            timeout=Duration.seconds(settings.timeout_seconds),
            reserved_concurrent_executions=settings.reserved_concurrency,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                envvars.METADATA_TABLE: table.table_name,
                envvars.CLOUDFRONT_DOMAIN: distribution_domain,
                envvars.CLOUDFRONT_DISTRIBUTION_ID: distribution_id,
                envvars.MAX_IMAGE_SIZE: str(settings.config.max_image_size),
                "POWERTOOLS_SERVICE_NAME": telemetry.SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": telemetry.NAMESPACE,
                **({envvars.CONFIG_FILE: f"{LAMBDA_TASK_ROOT}/{CONFIG_IN_BUNDLE}"}
                   if settings.config_file else {}),
            },
            description="imgproc: uploads to web-ready variants, placeholders and records",
        )
        # A mapping rather than SqsEventSource: that one also grants sqs:GetQueueUrl,
        # which nothing here calls.
        self.event_source = self.function.add_event_source_mapping(
            "Uploads",
            event_source_arn=self.queue.queue_arn,
            batch_size=settings.batch_size,
            max_batching_window=Duration.seconds(1),
            max_concurrency=min(settings.max_concurrency, settings.reserved_concurrency),
            report_batch_item_failures=True,
        )
        for event in (s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED):
            bucket.add_event_notification(
                event, s3n.SqsDestination(self.queue),
                s3.NotificationKeyFilter(prefix=settings.config.input_prefix),
            )
        self._grant(bucket, table, distribution_arn, settings)

    def _grant(self, bucket: s3.IBucket, table: dynamodb.ITableV2, distribution_arn: str,
               settings: DeploySettings) -> None:
        """Exactly the calls the handler makes (see tests/cdk/test_iam.py), scoped by prefix."""
        policy = iam.Policy(self, "Access", statements=[
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ReadOriginals",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{settings.config.input_prefix}*")],
            ),
            iam.PolicyStatement(
                # HEAD of a missing key answers 404 (not 403) only with ListBucket; listing
                # finds an original's variants when it is deleted
                sid="ListBucket",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteVariants",
                actions=["s3:PutObject", "s3:DeleteObject"],
                resources=[bucket.arn_for_objects(f"{settings.config.output_prefix}*")],
            ),
            iam.PolicyStatement(
                sid="Records",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                         "dynamodb:BatchWriteItem"],
                resources=[table.table_arn],
            ),
            iam.PolicyStatement(
                sid="InvalidateChangedVariants",
                actions=["cloudfront:CreateInvalidation"],
                resources=[distribution_arn],
            ),
            iam.PolicyStatement(
                sid="ConsumeUploads",  # what Lambda's poller does on the function's behalf
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage",
                         "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                resources=[self.queue.queue_arn],
            ),
        ])
        policy.attach_to_role(self.role)
        self.function.node.add_dependency(policy)


def _retention(days: int) -> logs.RetentionDays:
    by_days = {1: logs.RetentionDays.ONE_DAY, 7: logs.RetentionDays.ONE_WEEK,
               14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
               90: logs.RetentionDays.THREE_MONTHS, 365: logs.RetentionDays.ONE_YEAR}
    return by_days.get(days, logs.RetentionDays.ONE_MONTH)


__all__ = ["HANDLER", "RUNTIME", "Processing"]
