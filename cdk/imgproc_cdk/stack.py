"""The imgproc stack: one construct per concern, wired and granted here.

After `cdk deploy`, an upload under `uploads/` processes itself. The outputs are what
`imgproc --stack NAME ...` reads, so operators never copy resource names by hand.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from imgproc.keys import report_prefix, smoke_prefix

from .batch_operations import SERVICE as BATCH_OPERATIONS
from .batch_operations import BatchOperations
from .cdn import Cdn
from .monitoring import Monitoring
from .nag import suppress_accepted_findings
from .processing import Processing
from .records_table import RecordsTable
from .settings import DeploySettings
from .storage import Storage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ImgprocStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings,
                 project_root: Path = PROJECT_ROOT, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.storage = Storage(self, "Storage", settings=settings)
        self.records = RecordsTable(self, "RecordsTable")
        self.cdn = Cdn(self, "Cdn", bucket=self.storage.bucket,
                       output_prefix=settings.config.output_prefix,
                       logs=self.storage.access_logs, cors_origins=settings.cors_origins,
                       add_to_bucket_policy=self.storage.add_to_policy)
        self.processing = Processing(
            self, "Processing",
            bucket=self.storage.bucket,
            table=self.records.table,
            distribution_domain=self.cdn.distribution.distribution_domain_name,
            distribution_arn=self.cdn.distribution_arn,
            distribution_id=self.cdn.distribution.distribution_id,
            settings=settings,
            project_root=project_root,
        )
        self.monitoring = Monitoring(
            self, "Monitoring",
            function=self.processing.function,
            queue=self.processing.queue,
            dead_letters=self.processing.dead_letters,
            alarm_email=settings.alarm_email,
            permanent_failures=settings.permanent_failure_alarm,
        )
        self.batch_operations = BatchOperations(
            self, "BatchOperations", bucket=self.storage.bucket,
            function=self.processing.function, report_prefix=report_prefix(settings.config))
        self.operator_policy = self._operator_policy()
        self._outputs()
        suppress_accepted_findings(self)

    def _operator_policy(self) -> iam.ManagedPolicy:
        """What the `imgproc` CLI needs against this stack; attach it to operators' roles."""
        bucket, table = self.storage.bucket, self.records.table
        config, processing = self.settings.config, self.processing
        reports = report_prefix(config)
        return iam.ManagedPolicy(self, "OperatorPolicy", description=(
            "imgproc CLI: reprocess, jobs, verify, status, failures, triggers, upload, presign "
            "and smoke for this stack"),
            statements=[
                iam.PolicyStatement(sid="ReadStackOutputs",
                                    actions=["cloudformation:DescribeStacks"],
                                    resources=[self.stack_id]),
                iam.PolicyStatement(sid="ListBucket", actions=["s3:ListBucket"],
                                    resources=[bucket.bucket_arn]),
                iam.PolicyStatement(sid="ReadOriginalsAndVariants", actions=["s3:GetObject"],
                                    resources=[bucket.arn_for_objects(f"{config.input_prefix}*"),
                                               bucket.arn_for_objects(
                                                   f"{config.output_prefix}*")]),
                iam.PolicyStatement(sid="WriteVariants",
                                    actions=["s3:PutObject", "s3:DeleteObject"],
                                    resources=[bucket.arn_for_objects(
                                        f"{config.output_prefix}*")]),
                # upload and presign write originals (a presigned POST carries the signer's
                # rights); only smoke's own test uploads may be deleted
                iam.PolicyStatement(sid="UploadOriginals", actions=["s3:PutObject"],
                                    resources=[bucket.arn_for_objects(
                                        f"{config.input_prefix}*")]),
                iam.PolicyStatement(sid="RemoveSmokeUploads", actions=["s3:DeleteObject"],
                                    resources=[bucket.arn_for_objects(
                                        f"{smoke_prefix(config)}*")]),
                iam.PolicyStatement(sid="PresignForAcceleration",
                                    actions=["s3:GetAccelerateConfiguration"],
                                    resources=[bucket.bucket_arn]),
                iam.PolicyStatement(sid="Triggers", actions=["s3:GetBucketNotification",
                                                             "s3:PutBucketNotification"],
                                    resources=[bucket.bucket_arn]),
                iam.PolicyStatement(sid="Records", actions=[
                    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
                    "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"],
                    resources=[table.table_arn, f"{table.table_arn}/index/"
                               f"{self.records.error_index}"]),
                iam.PolicyStatement(sid="RemoteReprocess", actions=["sqs:SendMessage"],
                                    resources=[processing.queue.queue_arn]),
                iam.PolicyStatement(sid="InvalidateChangedVariants",
                                    actions=["cloudfront:CreateInvalidation"],
                                    resources=[self.cdn.distribution_arn]),
                iam.PolicyStatement(sid="PauseResume",
                                    actions=["lambda:UpdateEventSourceMapping"],
                                    resources=[processing.event_source.event_source_mapping_arn]),
                iam.PolicyStatement(sid="FindMappings",  # supports no resource-level scoping
                                    actions=["lambda:ListEventSourceMappings"],
                                    resources=["*"]),
                # reprocess --engine batch-operations: the CSV of --failed keys, a --manifest's
                # ETag, and the completion reports, all under the report prefix
                iam.PolicyStatement(sid="ReadReportsAndManifests", actions=["s3:GetObject"],
                                    resources=[bucket.arn_for_objects(f"{reports}*")]),
                iam.PolicyStatement(sid="WriteManifests", actions=["s3:PutObject"],
                                    resources=[bucket.arn_for_objects(
                                        f"{reports}manifests/*")]),
                iam.PolicyStatement(  # CreateJob has no resource type: narrowed by operation
                    sid="CreateJobs", actions=["s3:CreateJob"], resources=["*"],
                    conditions={"StringEquals": {"s3:RequestJobOperation": "LambdaInvoke"}}),
                iam.PolicyStatement(sid="FollowJobs", actions=["s3:DescribeJob"],
                                    resources=[self.format_arn(
                                        service="s3", resource="job", resource_name="*")]),
                iam.PolicyStatement(sid="ListJobs",  # supports no resource-level scoping
                                    actions=["s3:ListJobs"], resources=["*"]),
                iam.PolicyStatement(
                    sid="PassBatchOperationsRole", actions=["iam:PassRole"],
                    resources=[self.batch_operations.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": BATCH_OPERATIONS}}),
            ])

    def _outputs(self) -> None:
        outputs = {
            "BucketName": self.storage.bucket.bucket_name,
            "TableName": self.records.table.table_name,
            "QueueUrl": self.processing.queue.queue_url,
            "DeadLetterQueueUrl": self.processing.dead_letters.queue_url,
            "FunctionName": self.processing.function.function_name,
            "DistributionDomainName": self.cdn.distribution.distribution_domain_name,
            "DistributionId": self.cdn.distribution.distribution_id,
            "AlarmTopicArn": self.monitoring.topic.topic_arn,
            "OperatorPolicyArn": self.operator_policy.managed_policy_arn,
            "BatchOperationsRoleArn": self.batch_operations.role.role_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
