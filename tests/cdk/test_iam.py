"""Least privilege: the policies allow every AWS call the handler and CLI make, and no more.

`CALLS` maps each boto3 call imgproc makes to the IAM actions it needs. A test scans the
package's source so a new boto3 call cannot slip in without its row here; the others check
that each needed action is granted on the right resource, and that nothing else is granted.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "imgproc"

# boto3 call -> IAM actions, and which principal makes it: the function, the CLI, or both
CALLS = {
    "s3.head_object": (["s3:GetObject"], "both"),
    "s3.get_object": (["s3:GetObject", "s3:GetObjectVersion"], "both"),
    "s3.put_object": (["s3:PutObject"], "both"),
    "s3.list_objects_v2": (["s3:ListBucket"], "both"),
    "s3.delete_objects": (["s3:DeleteObject"], "both"),
    "s3.generate_presigned_post": (["s3:PutObject"], "cli"),  # the POST carries the signer's
    "s3.get_bucket_accelerate_configuration": (["s3:GetAccelerateConfiguration"], "cli"),
    "s3.get_bucket_notification_configuration": (["s3:GetBucketNotification"], "cli"),
    "s3.put_bucket_notification_configuration": (["s3:PutBucketNotification"], "cli"),
    "dynamodb.get_item": (["dynamodb:GetItem"], "both"),
    "dynamodb.put_item": (["dynamodb:PutItem"], "both"),
    "dynamodb.update_item": (["dynamodb:UpdateItem"], "both"),
    "dynamodb.batch_write_item": (["dynamodb:BatchWriteItem"], "both"),
    "dynamodb.scan": (["dynamodb:Scan"], "cli"),  # failures, reprocess --failed, verify
    "dynamodb.batch_get_item": (["dynamodb:BatchGetItem"], "cli"),  # a reprocess plan
    "cloudfront.create_invalidation": (["cloudfront:CreateInvalidation"], "both"),
    "sqs.send_message_batch": (["sqs:SendMessage"], "cli"),
    "lambda.list_event_source_mappings": (["lambda:ListEventSourceMappings"], "cli"),
    "lambda.update_event_source_mapping": (["lambda:UpdateEventSourceMapping"], "cli"),
    "cloudformation.describe_stacks": (["cloudformation:DescribeStacks"], "cli"),
    # reprocess --engine batch-operations and imgproc jobs; creating a job passes its role
    "s3control.create_job": (["s3:CreateJob", "iam:PassRole"], "cli"),
    "s3control.describe_job": (["s3:DescribeJob"], "cli"),
    "s3control.list_jobs": (["s3:ListJobs"], "cli"),
    "sts.get_caller_identity": ([], "cli"),  # needs no permission: AWS always answers it
}
# Lambda's SQS poller and its logs, on the function's behalf
SERVICE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                   "sqs:GetQueueAttributes", "logs:CreateLogStream", "logs:PutLogEvents"}
# get_object with a VersionId is the only versioned call; the CLI never passes one
CLI_EXCLUDED = {"s3:GetObjectVersion"}

_CLIENT = r"(?:s3control|s3|dynamodb|cloudfront|sqs|lambda_|cfn|sts)"
_PAGINATED = re.compile(rf"\b(?:self\.)?({_CLIENT})\.get_paginator\(\"([a-z_0-9]+)\"\)")
_CALL_ARG = re.compile(rf"\b_call\(\s*({_CLIENT})\.([a-z_]+)")
_SERVICE = {"lambda_": "lambda", "cfn": "cloudformation"}


def calls_in_source() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(rf"\b(?:self\.)?({_CLIENT})\.([a-z_]+)\(", text):
            service, method = match.groups()
            if method != "get_paginator":
                found.add(f"{_SERVICE.get(service, service)}.{method}")
        for service, method in _PAGINATED.findall(text) + _CALL_ARG.findall(text):
            found.add(f"{_SERVICE.get(service, service)}.{method}")
    return found


def statements(resources: dict, where) -> list[dict]:
    return [s for r in resources.values()
            if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and where(r)
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def batch_role(resources: dict) -> tuple[str, dict]:
    (found,) = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"
                and "batchoperations.s3.amazonaws.com"
                in str(r["Properties"]["AssumeRolePolicyDocument"])]
    return found


def batch_statements(resources: dict) -> list[dict]:
    name, _role = batch_role(resources)
    return statements(resources, lambda r: {"Ref": name} in r["Properties"].get("Roles", []))


def function_statements(resources: dict) -> list[dict]:
    (role,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"
               and "lambda.amazonaws.com" in str(r["Properties"]["AssumeRolePolicyDocument"])
               and "BucketNotificationsHandler" not in k]
    return statements(resources, lambda r: {"Ref": role} in r["Properties"].get("Roles", []))


def operator_statements(resources: dict) -> list[dict]:
    return statements(resources, lambda r: r["Type"] == "AWS::IAM::ManagedPolicy")


def granted(statements_: list[dict]) -> dict[str, list]:
    """action -> the resources it is allowed on."""
    allowed: dict[str, list] = {}
    for statement in statements_:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
            statement["Resource"]]
        for action in actions:
            assert "*" not in action, f"wildcard action {action}"
            allowed.setdefault(action, []).extend(resources)
    return allowed


def needed(principal: str) -> set[str]:
    actions = {a for actions, who in CALLS.values() if who in ("both", principal)
               for a in actions}
    return actions - CLI_EXCLUDED if principal == "cli" else actions


# --- the table is complete -------------------------------------------------------------


def test_every_boto3_call_in_the_package_has_its_permissions_listed():
    found = calls_in_source()
    assert found, "the scan found no boto3 calls at all"
    assert found <= set(CALLS), f"add these to CALLS and the policies: {found - set(CALLS)}"


# --- the function ------------------------------------------------------------------------


def test_function_role_grants_exactly_what_the_handler_needs(resources):
    allowed = granted(function_statements(resources))
    assert set(allowed) == needed("function") | SERVICE_ACTIONS


def test_function_reads_only_uploads_and_writes_only_processed(resources):
    allowed = granted(function_statements(resources))
    for action in ("s3:GetObject", "s3:GetObjectVersion"):
        assert [_suffix(r) for r in allowed[action]] == ["/uploads/*"]
    for action in ("s3:PutObject", "s3:DeleteObject"):
        assert [_suffix(r) for r in allowed[action]] == ["/processed/*"]


def test_function_has_no_star_resources(resources):
    allowed = granted(function_statements(resources))
    assert all(resource != "*" for targets in allowed.values() for resource in targets)


def test_function_uses_no_managed_policies(resources):
    role = [r for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"
            and "BucketNotificationsHandler" not in k]
    assert all("ManagedPolicyArns" not in r["Properties"] for r in role)


# --- the operator (CLI) ------------------------------------------------------------------


def test_operator_policy_grants_exactly_what_the_cli_needs(resources):
    allowed = granted(operator_statements(resources))
    assert set(allowed) == needed("cli")


def test_operator_star_resource_only_where_iam_offers_nothing_narrower(resources):
    allowed = granted(operator_statements(resources))
    starred = {action for action, targets in allowed.items() if "*" in targets}
    assert starred == {"lambda:ListEventSourceMappings", "s3:ListJobs", "s3:CreateJob"}


def test_operator_creates_only_lambda_invoke_jobs_with_only_the_stacks_role(resources):
    role, _ = batch_role(resources)
    by_sid = {s.get("Sid"): s for s in operator_statements(resources)}
    assert by_sid["CreateJobs"]["Condition"] == {
        "StringEquals": {"s3:RequestJobOperation": "LambdaInvoke"}}
    assert by_sid["PassBatchOperationsRole"]["Resource"] == {"Fn::GetAtt": [role, "Arn"]}
    assert by_sid["PassBatchOperationsRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "batchoperations.s3.amazonaws.com"}}
    assert by_sid["FollowJobs"]["Resource"]["Fn::Join"][1][-1] == ":job/*"


def test_operator_adds_originals_but_deletes_only_variants_and_smoke_uploads(resources):
    allowed = granted(operator_statements(resources))
    assert sorted(_suffix(r) for r in allowed["s3:PutObject"]) == [
        "/imgproc-reports/manifests/*", "/processed/*", "/uploads/*"]
    assert sorted(_suffix(r) for r in allowed["s3:DeleteObject"]) == [
        "/processed/*", "/uploads/imgproc-smoke/*"]
    assert sorted(_suffix(r) for r in allowed["s3:GetObject"]) == [
        "/imgproc-reports/*", "/processed/*", "/uploads/*"]


# --- the role Batch Operations assumes -------------------------------------------------------


def test_batch_operations_role_is_assumed_only_by_this_accounts_jobs(resources):
    _name, role = batch_role(resources)
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {"Action": "sts:AssumeRole", "Effect": "Allow",
                         "Principal": {"Service": "batchoperations.s3.amazonaws.com"},
                         "Condition": {"StringEquals": {
                             "aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_batch_operations_role_invokes_the_function_and_touches_only_reports(resources):
    allowed = granted(batch_statements(resources))
    (function,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
                   and r["Properties"].get("Handler") == "imgproc.lambda_handler.handler"]
    assert set(allowed) == {"lambda:InvokeFunction", "s3:GetObject", "s3:GetObjectVersion",
                            "s3:PutObject", "s3:ListBucket"}
    assert allowed["lambda:InvokeFunction"] == [{"Fn::GetAtt": [function, "Arn"]}]
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"):
        assert [_suffix(r) for r in allowed[action]] == ["/imgproc-reports/*"]
    (listed,) = allowed["s3:ListBucket"]
    assert "Fn::GetAtt" in listed and listed["Fn::GetAtt"][1] == "Arn"  # the bucket itself


def _suffix(resource) -> str:
    """'/uploads/*' from {"Fn::Join": ["", [<bucket arn>, "/uploads/*"]]}."""
    return resource["Fn::Join"][1][-1] if isinstance(resource, dict) else resource
