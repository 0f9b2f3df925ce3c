"""The role S3 Batch Operations assumes for `reprocess --remote --engine batch-operations`.

A job lists the bucket (its manifest generator) or reads a manifest under the report prefix,
invokes the imgproc function once per object, and writes its completion report under the
report prefix. The role may do exactly that; it reads no original and writes no variant (the
function does, with its own role, which this construct leaves unchanged).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

SERVICE = "batchoperations.s3.amazonaws.com"


class BatchOperations(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bucket: s3.IBucket,
                 function: lambda_.IFunction, report_prefix: str) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.role = iam.Role(
            self,
            "Role",
            # only jobs of this account may use it (the confused-deputy guard AWS advises)
            assumed_by=iam.ServicePrincipal(
                SERVICE, conditions={"StringEquals": {"aws:SourceAccount": account}}),
            description="imgproc Batch Operations jobs: invoke the function over the bucket, "
                        "read manifests and write reports under the report prefix",
        )
        reports = bucket.arn_for_objects(f"{report_prefix}*")
        iam.Policy(self, "Access", roles=[self.role], statements=[
            iam.PolicyStatement(sid="InvokeFunction", actions=["lambda:InvokeFunction"],
                                resources=[function.function_arn]),
            iam.PolicyStatement(sid="ReadManifests",
                                actions=["s3:GetObject", "s3:GetObjectVersion"],
                                resources=[reports]),
            iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"],
                                resources=[reports]),
            # the manifest generator lists the prefix itself (no manifest output is written)
            iam.PolicyStatement(sid="GenerateManifests", actions=["s3:ListBucket"],
                                resources=[bucket.bucket_arn]),
        ])


__all__ = ["SERVICE", "BatchOperations"]
