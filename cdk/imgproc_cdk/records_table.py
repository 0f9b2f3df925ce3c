"""The records table: on demand, point-in-time recovery, and a sparse index of errors."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from imgproc.stores.dynamodb import ERROR_INDEX


class RecordsTable(Construct):
    """Partition key `id`. Only error records carry a top-level `key`: the index is sparse."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Records",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=ERROR_INDEX,
                    partition_key=dynamodb.Attribute(
                        name="key", type=dynamodb.AttributeType.STRING
                    ),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.error_index = ERROR_INDEX
