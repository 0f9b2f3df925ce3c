"""What `--stack NAME` means: the deployed stack's outputs, read with DescribeStacks.

The CDK app publishes `BucketName`, `TableName`, `QueueUrl`, `FunctionName`,
`DistributionDomainName`, `DistributionId` and `BatchOperationsRoleArn`; the CLI takes its
bucket, table, queue, function and Batch Operations role from them so nobody copies names by
hand. A missing output is `None` (an older stack); a missing stack is a configuration error,
and anything else AWS says is transient.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from ..errors import ConfigError, TransientError
from .clients import AwsSettings, client, error_code

# OutputKey in the stack → field of StackOutputs
OUTPUT_FIELDS = {
    "BucketName": "bucket",
    "TableName": "table",
    "QueueUrl": "queue_url",
    "FunctionName": "function_name",
    "DistributionDomainName": "distribution_domain",
    "DistributionId": "distribution_id",
    "BatchOperationsRoleArn": "batch_operations_role_arn",
}


@dataclass(frozen=True)
class StackOutputs:
    bucket: str | None = None
    table: str | None = None
    queue_url: str | None = None
    function_name: str | None = None
    distribution_domain: str | None = None
    distribution_id: str | None = None
    batch_operations_role_arn: str | None = None


def read_stack_outputs(stack_name: str, settings: AwsSettings, cfn=None) -> StackOutputs:
    """The outputs of one stack (`cfn` is a CloudFormation client, for tests)."""
    cfn = cfn or _client(settings)
    region = settings.region or cfn.meta.region_name
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            raise ConfigError(
                f"Stack {stack_name} was not found in region {region}: check --stack and "
                "--region (or AWS_REGION), and that the stack was deployed there."
            ) from exc
        raise TransientError(f"Cannot read stack {stack_name} in {region}: {exc}.") from exc
    except (NoCredentialsError, NoRegionError) as exc:
        raise ConfigError(f"Cannot read stack {stack_name}: {exc}.") from exc
    except BotoCoreError as exc:
        raise TransientError(f"Cannot read stack {stack_name} in {region}: {exc}.") from exc
    if not stacks:  # DescribeStacks raises for a missing stack; be safe anyway
        raise ConfigError(f"Stack {stack_name} was not found in region {region}.")
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stacks[0].get("Outputs", [])}
    return StackOutputs(**{field: outputs.get(key) or None
                           for key, field in OUTPUT_FIELDS.items()})


def _client(settings: AwsSettings):
    try:
        return client("cloudformation", settings)
    except (NoRegionError, BotoCoreError) as exc:
        raise ConfigError(f"Cannot reach CloudFormation: {exc}.") from exc
