"""The media bucket (originals and variants) and the bucket its access logs go to.

The media bucket is versioned, so a deleted or overwritten original can be restored (README,
"Restore a deleted original"). Noncurrent versions expire: variants after 7 days (they can be
rendered again), originals after `keepDeletedOriginalsDays`.

An existing bucket (`-c bucketName=`) is used as it is: the stack adds its notifications
and the bucket policy statements it needs, and leaves CORS, lifecycle, versioning, encryption
and acceleration to the bucket's owner (README, "Use an existing bucket").
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .settings import DeploySettings


class Storage(Construct):
    """Private, encrypted, TLS-only, versioned; incomplete multipart uploads are cleaned up
    after a week; originals move to Intelligent-Tiering; noncurrent versions expire; browsers
    may POST uploads from `corsOrigins`."""

    def __init__(self, scope: Construct, construct_id: str, *,
                 settings: DeploySettings) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront's standard logs are delivered with ACLs
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.imported = settings.bucket_name is not None
        if self.imported:
            self.bucket = s3.Bucket.from_bucket_name(self, "Media", settings.bucket_name)
            self.policy = s3.BucketPolicy(self, "MediaPolicy", bucket=self.bucket)
            self.add_to_policy(iam.PolicyStatement(
                sid="TlsOnly", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                actions=["s3:*"], resources=[self.bucket.bucket_arn,
                                             self.bucket.arn_for_objects("*")],
                conditions={"Bool": {"aws:SecureTransport": "false"}}))
            return
        self.policy = None
        self.bucket = s3.Bucket(
            self,
            "Media",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,  # a deleted original stays restorable (see _lifecycle)
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="s3/",
            lifecycle_rules=_lifecycle(settings),
            cors=[s3.CorsRule(
                allowed_methods=[s3.HttpMethods.POST],
                allowed_origins=list(settings.cors_origins),
                allowed_headers=["*"],
                max_age=3600,
            )],
            transfer_acceleration=settings.transfer_acceleration or None,
            removal_policy=RemovalPolicy.RETAIN,  # originals are never deleted by a teardown
        )

    def add_to_policy(self, statement: iam.PolicyStatement) -> None:
        """A bucket policy statement, on a created bucket or an imported one."""
        if self.policy is not None:
            self.policy.document.add_statements(statement)
        else:
            self.bucket.add_to_resource_policy(statement)


NONCURRENT_VARIANT_DAYS = 7


def _lifecycle(settings: DeploySettings) -> list[s3.LifecycleRule]:
    config = settings.config
    rules = [
        s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7)),
        # Variants can be rendered again from their original: old versions go after a week.
        # A delete marker left with no versions behind it is removed too, so listings and
        # `list-object-versions` stay clean (S3 refuses that flag in a rule that also expires
        # current versions after days or on a date, so these rules never do).
        s3.LifecycleRule(
            id="NoncurrentVariants",
            prefix=config.output_prefix,
            noncurrent_version_expiration=Duration.days(NONCURRENT_VARIANT_DAYS),
            expired_object_delete_marker=True,
        ),
        # Originals cannot be re-made: a deleted or overwritten one stays restorable this long.
        s3.LifecycleRule(
            id="DeletedOriginals",
            prefix=config.input_prefix,
            noncurrent_version_expiration=Duration.days(settings.keep_deleted_originals_days),
            expired_object_delete_marker=True,
        ),
    ]
    if settings.originals_storage_class == "INTELLIGENT_TIERING":
        # Originals are read once (at upload) and then rarely: Intelligent-Tiering moves them
        # to cheaper tiers by itself. Variants stay Standard: the CDN reads them.
        rules.append(s3.LifecycleRule(
            id="OriginalsToIntelligentTiering",
            prefix=config.input_prefix,
            transitions=[s3.Transition(storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                                       transition_after=Duration.days(0))],
        ))
    return rules
