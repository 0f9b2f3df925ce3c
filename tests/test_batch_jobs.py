"""`reprocess --remote --engine batch-operations` and `imgproc jobs`, through the CLI.

moto (5.x) implements no S3 Batch Operations call (`s3control.create_job`, `describe_job` and
`list_jobs` are missing), so the s3control client is wrapped in botocore's `Stubber`: every
request the CLI makes is validated against the service model before the stub answers, and
every stubbed answer is validated against the model's output shape. Everything else (S3, the
records in DynamoDB, STS's account id, the stack's outputs) is moto.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import unquote_plus

import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner

from imgproc.aws.batch_jobs import JobPlan, create_job_request
from imgproc.aws.events import parse_batch_operations
from imgproc.cli import main
from imgproc.lambda_handler import handler
from tests.aws_fixtures import BUCKET, REGION, TABLE, LambdaContext

ACCOUNT = "123456789012"  # moto's STS account
FUNCTION = "imgproc-fn"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/imgproc-BatchOperationsRole"
JOB = "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"
STACK_TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {"BucketName": {"Value": BUCKET}, "TableName": {"Value": TABLE},
                "FunctionName": {"Value": FUNCTION},
                "BatchOperationsRoleArn": {"Value": ROLE}},
}
REPORT = {"Bucket": f"arn:aws:s3:::{BUCKET}", "Format": "Report_CSV_20180820", "Enabled": True,
          "Prefix": "imgproc-reports", "ReportScope": "FailedTasksOnly"}


def generated_over(prefix: str) -> dict:
    return {"S3JobManifestGenerator": {
        "ExpectedBucketOwner": ACCOUNT, "SourceBucket": f"arn:aws:s3:::{BUCKET}",
        "EnableManifestOutput": False,
        "Filter": {"KeyNameConstraint": {"MatchAnyPrefix": [prefix]}}}}


def expected_job(*, force: bool = False, source: str, **where) -> dict:
    return {
        "AccountId": ACCOUNT, "ConfirmationRequired": False,
        "Operation": {"LambdaInvoke": {"FunctionArn": FUNCTION_ARN,
                                       "InvocationSchemaVersion": "2.0",
                                       "UserArguments": {"force": "true" if force else "false"}}},
        "Report": REPORT, "Priority": 10, "RoleArn": ROLE,
        "Description": f"imgproc reprocess {source}{' --force' if force else ''}",
        "ClientRequestToken": ANY, **where,
    }


def run(*args: str):
    result = CliRunner(env={"COLUMNS": "300", "IMGPROC_BUCKET": None, "IMGPROC_TABLE": None,
                            "IMGPROC_STACK": None, "AWS_ENDPOINT_URL": None}).invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def sentence(result) -> str:
    return " ".join(result.stderr.split())


@pytest.fixture
def stack(aws, aws_clients):
    aws_clients("cloudformation").create_stack(StackName="imgproc",
                                               TemplateBody=json.dumps(STACK_TEMPLATE))
    return aws


@pytest.fixture
def s3control(aws):
    """The CLI's own (cached) s3control client, stubbed; every stubbed call must happen."""
    from imgproc.aws.clients import AwsSettings, client

    with Stubber(client("s3control", AwsSettings(region=REGION))) as stub:
        yield stub
        stub.assert_no_pending_responses()


def reprocess_batch(*args: str):
    return run("--stack", "imgproc", "reprocess", "--remote", "--engine", "batch-operations",
               *args)


# --- create_job ------------------------------------------------------------------------------


@pytest.mark.parametrize("args,prefix", [((), "uploads/"), (("--prefix", "uploads/2024/"),
                                                             "uploads/2024/")])
def test_a_prefix_becomes_a_manifest_generator_filtered_to_it(stack, s3control, args, prefix):
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        source=f"s3://{BUCKET}/{prefix}", ManifestGenerator=generated_over(prefix)))
    result = reprocess_batch(*args)
    assert result.exit_code == 0, result.output
    assert f"created Batch Operations job {JOB} over s3://{BUCKET}/{prefix}" in result.stdout
    assert f"report of failed tasks: s3://{BUCKET}/imgproc-reports/job-{JOB}/" in result.stdout
    assert f"imgproc jobs status {JOB} --wait" in result.stdout


def test_force_travels_in_the_user_arguments(stack, s3control):
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        force=True, source=f"s3://{BUCKET}/uploads/",
        ManifestGenerator=generated_over("uploads/")))
    assert reprocess_batch("--force").exit_code == 0


def test_a_csv_manifest_is_given_by_location_and_etag(stack, s3control):
    s3, _dynamodb = stack
    key = "imgproc-reports/manifests/mine.csv"
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=f"{BUCKET},uploads/a.jpg\n")["ETag"]
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        source=f"s3://{BUCKET}/{key}", Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::{BUCKET}/{key}",
                         "ETag": etag.strip('"')}}))
    assert reprocess_batch("--manifest", f"s3://{BUCKET}/{key}").exit_code == 0


def test_an_inventory_manifest_is_read_as_one_and_pinned_to_its_version(stack, s3control):
    s3, _dynamodb = stack
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    key = "imgproc-reports/inventory/media/all/2026-12-01T01-00Z/manifest.json"
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=b'{"files": []}')
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        source=f"s3://{BUCKET}/{key}", Manifest={
            "Spec": {"Format": "S3InventoryReport_CSV_20161130"},
            "Location": {"ObjectArn": f"arn:aws:s3:::{BUCKET}/{key}",
                         "ETag": put["ETag"].strip('"'), "ObjectVersionId": put["VersionId"]}}))
    assert reprocess_batch("--manifest", f"s3://{BUCKET}/{key}").exit_code == 0


FAILED = ["uploads/bad one.jpg", "uploads/ä+b.jpg", "uploads/100%,x.jpg"]


def test_failed_writes_a_csv_of_the_error_records_keys_first(stack, s3control):
    # GIVEN three originals with error records (made by the handler, as in production)
    s3, _dynamodb = stack
    for key in FAILED:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"not a picture")
        handler({"bucket": BUCKET, "key": key}, LambdaContext())
    s3control.add_response("create_job", {"JobId": JOB}, None)
    # WHEN reprocess --failed runs on Batch Operations
    result = reprocess_batch("--failed", "--json")
    assert result.exit_code == 0, result.output
    (answer,) = [json.loads(line) for line in result.stdout.splitlines()]
    # THEN the CSV lists exactly those keys, URL-encoded, under the report prefix
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="imgproc-reports/manifests/")
    (csv_object,) = listing["Contents"]
    body = s3.get_object(Bucket=BUCKET, Key=csv_object["Key"])["Body"].read().decode()
    assert body.splitlines() == [f"{BUCKET},uploads/100%25%2Cx.jpg",
                                 f"{BUCKET},uploads/bad%20one.jpg",
                                 f"{BUCKET},uploads/%C3%A4%2Bb.jpg"]
    assert answer["source"] == f"s3://{BUCKET}/{csv_object['Key']}" and answer["keys"] == 3
    # ... each line's key reads back exactly, by the handler's rule and by a plain URL decoder
    for line, key in zip(body.splitlines(), sorted(FAILED), strict=True):
        encoded = line.split(",", 1)[1]
        task = {"taskId": "t", "s3Key": encoded, "s3BucketArn": f"arn:aws:s3:::{BUCKET}"}
        event = {"invocationSchemaVersion": "1.0", "invocationId": "i", "job": {"id": "j"},
                 "tasks": [task]}
        assert parse_batch_operations(event).tasks[0].event.key == key
        assert unquote_plus(encoded) == key


def test_failed_job_reads_the_csv_it_wrote_and_forces(stack, s3control):
    s3, _dynamodb = stack
    s3.put_object(Bucket=BUCKET, Key=FAILED[0], Body=b"not a picture")
    handler({"bucket": BUCKET, "key": FAILED[0]}, LambdaContext())
    body = f"{BUCKET},uploads/bad%20one.jpg\n".encode()
    key = f"imgproc-reports/manifests/failed-{hashlib.sha256(body).hexdigest()[:16]}.csv"
    etag = f'"{hashlib.md5(body).hexdigest()}"'  # what S3 answers for a single-part PUT
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        force=True, source=f"s3://{BUCKET}/{key}", Manifest={
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::{BUCKET}/{key}", "ETag": etag.strip('"')}}))
    assert reprocess_batch("--failed").exit_code == 0
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"] == etag


def test_failed_without_error_records_creates_no_job(stack, s3control):
    result = reprocess_batch("--failed")
    assert result.exit_code == 0 and "no job created" in result.stderr


# --- the client token ------------------------------------------------------------------------


def tokens(stub, *runs: tuple[str, ...]) -> list[str]:
    for _ in runs:
        stub.add_response("create_job", {"JobId": JOB}, None)
    return [json.loads(reprocess_batch(*args, "--json").stdout)["clientRequestToken"]
            for args in runs]


def test_the_same_plan_gets_the_same_client_token(stack, s3control):
    first, again, forced, other = tokens(s3control, (), (), ("--force",),
                                         ("--prefix", "uploads/2024/"))
    assert first == again and len(first) == 64
    assert len({first, forced, other}) == 3


def test_the_same_plan_another_day_is_another_job():
    from imgproc.aws.batch_jobs import Caller

    plan = dict(caller=Caller(ACCOUNT), bucket=BUCKET, prefix="uploads/",
                function_arn=FUNCTION_ARN, role_arn=ROLE, report_prefix="imgproc-reports/")
    today = create_job_request(JobPlan(**plan, day="2026-12-03"))
    assert create_job_request(JobPlan(**plan, day="2026-12-03")) == today
    tomorrow = create_job_request(JobPlan(**plan, day="2026-12-04"))
    assert tomorrow["ClientRequestToken"] != today["ClientRequestToken"]
    assert {k: v for k, v in tomorrow.items() if k != "ClientRequestToken"} == {
        k: v for k, v in today.items() if k != "ClientRequestToken"}


# --- what is refused -------------------------------------------------------------------------


@pytest.mark.parametrize("args,words", [
    (("reprocess", "--engine", "batch-operations"), "add --remote"),
    (("reprocess", "--manifest", f"s3://{BUCKET}/m.csv"), "--manifest is for --engine"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--key", "uploads/a.jpg"),
     "use --engine sqs"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--failed", "--manifest",
      f"s3://{BUCKET}/imgproc-reports/m.csv"), "drop --failed"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--prefix", "processed/"),
     "outside the input prefix uploads/"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--manifest", "uploads/m.csv"),
     "s3://BUCKET/KEY"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--manifest",
      f"s3://{BUCKET}/imgproc-reports/list.txt"), "neither a CSV"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--manifest",
      f"s3://{BUCKET}/imgproc-reports/gone.csv"), "cannot be read (not found)"),
    (("reprocess", "--remote", "--engine", "batch-operations", "--manifest",
      f"s3://{BUCKET}/uploads/list.csv"), "reads manifests only under"),
])
def test_combinations_a_job_cannot_honour_exit_2_with_a_sentence(stack, s3control, args, words):
    s3, _dynamodb = stack
    s3.put_object(Bucket=BUCKET, Key="uploads/list.csv", Body=b"")
    result = run("--stack", "imgproc", *args)
    assert result.exit_code == 2, result.output
    assert words in sentence(result) and sentence(result).startswith("Error:")


def test_without_a_stack_the_function_and_role_must_be_given(aws, s3control):
    result = run("--bucket", BUCKET, "--table", TABLE, "reprocess", "--remote", "--engine",
                 "batch-operations")
    assert result.exit_code == 2
    assert "--function and --role-arn" in sentence(result)
    s3control.add_response("create_job", {"JobId": JOB}, expected_job(
        source=f"s3://{BUCKET}/uploads/", ManifestGenerator=generated_over("uploads/")))
    result = run("--bucket", BUCKET, "--table", TABLE, "reprocess", "--remote", "--engine",
                 "batch-operations", "--function", FUNCTION, "--role-arn", ROLE)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("code,status,exit_code", [("BadRequestException", 400, 2),
                                                   ("AccessDenied", 403, 2),
                                                   ("TooManyRequestsException", 429, 1)])
def test_a_refused_create_job_is_one_sentence(stack, s3control, code, status, exit_code):
    s3control.add_client_error("create_job", code, "Request invalid", status)
    result = reprocess_batch()
    assert result.exit_code == exit_code
    assert "Creating the Batch Operations job" in sentence(result)
    assert f"({code}): Request invalid." in sentence(result)


def test_dry_run_shows_the_request_and_creates_nothing(stack, s3control):
    result = reprocess_batch("--dry-run", "--json")
    assert result.exit_code == 0
    request = json.loads(result.stdout)
    assert request["ManifestGenerator"] == generated_over("uploads/")
    assert request["Operation"]["LambdaInvoke"]["FunctionArn"] == FUNCTION_ARN


# --- jobs status / jobs list -----------------------------------------------------------------


def described(status: str, succeeded: int = 0, failed: int = 0, total: int | None = 3,
              **extra) -> dict:
    """`describe_job`'s answer, in the model's shape (the Stubber checks it)."""
    from datetime import UTC, datetime

    progress = {"NumberOfTasksSucceeded": succeeded, "NumberOfTasksFailed": failed,
                "Timers": {"ElapsedTimeInActiveSeconds": 42}}
    if total is not None:
        progress["TotalNumberOfTasks"] = total
    return {"Job": {
        "JobId": JOB, "ConfirmationRequired": False, "Status": status, "Priority": 10,
        "Description": f"imgproc reprocess s3://{BUCKET}/uploads/",
        "JobArn": f"arn:aws:s3:{REGION}:{ACCOUNT}:job/{JOB}",
        "Operation": {"LambdaInvoke": {"FunctionArn": FUNCTION_ARN,
                                       "InvocationSchemaVersion": "2.0"}},
        "ProgressSummary": progress, "Report": REPORT, "RoleArn": ROLE,
        "CreationTime": datetime(2026, 12, 3, 9, 30, tzinfo=UTC), **extra}}


def describe(stub, *answers: dict) -> None:
    for answer in answers:
        stub.add_response("describe_job", answer, {"AccountId": ACCOUNT, "JobId": JOB})


def test_status_of_a_complete_job_says_where_the_report_is(aws, s3control):
    describe(s3control, described("Complete", succeeded=3))
    result = run("jobs", "status", JOB, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "jobId": JOB, "status": "Complete",
        "tasks": {"total": 3, "succeeded": 3, "failed": 0},
        "description": f"imgproc reprocess s3://{BUCKET}/uploads/",
        "created": "2026-12-03T09:30:00+00:00",
        "report": f"s3://{BUCKET}/imgproc-reports/job-{JOB}/", "reasons": []}


def test_status_table_for_people(aws, s3control):
    describe(s3control, described("Complete", succeeded=2, failed=1))
    result = run("jobs", "status", JOB)
    assert result.exit_code == 1  # a task failed: the report lists it
    assert "2 succeeded, 1 failed, 3 total" in result.stdout
    assert f"s3://{BUCKET}/imgproc-reports/job-{JOB}/" in result.stdout


def test_a_failed_job_exits_1_with_its_reasons(aws, s3control):
    describe(s3control, described("Failed", failed=1000, total=1000, FailureReasons=[
        {"FailureCode": "ExceededFailureThreshold",
         "FailureReason": "The job failed because more than 50% of tasks failed."}]))
    result = run("jobs", "status", JOB)
    assert result.exit_code == 1
    assert "ExceededFailureThreshold: The job failed because more than 50% of" in result.stdout


def test_status_wait_follows_the_job_until_it_ends(aws, s3control):
    describe(s3control, described("Preparing", total=None), described("Active", succeeded=1),
             described("Complete", succeeded=3))
    result = run("jobs", "status", JOB, "--wait", "--timeout", "30", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "Complete"


def test_status_wait_times_out_with_exit_3(aws, s3control):
    describe(s3control, described("Active", succeeded=1), described("Active", succeeded=2))
    result = run("jobs", "status", JOB, "--wait", "--timeout", "0")
    assert result.exit_code == 3
    assert "Timed out" in result.stderr and "2 succeeded, 0 failed, 3 total" in result.stdout


def test_a_running_job_without_wait_exits_1(aws, s3control):
    describe(s3control, described("Active", succeeded=1))
    assert run("jobs", "status", JOB).exit_code == 1


def test_status_of_an_unknown_job(aws, s3control):
    s3control.add_client_error("describe_job", "NotFoundException", "Job not found", 404)
    result = run("jobs", "status", JOB)
    assert result.exit_code == 1
    assert "no such job in account 123456789012" in sentence(result)


def listed(job_id: str, description: str, status: str = "Complete") -> dict:
    from datetime import UTC, datetime

    return {"JobId": job_id, "Description": description, "Operation": "LambdaInvoke",
            "Priority": 10, "Status": status,
            "CreationTime": datetime(2026, 12, int(job_id[-1]), tzinfo=UTC),
            "ProgressSummary": {"TotalNumberOfTasks": 5, "NumberOfTasksSucceeded": 5,
                                "NumberOfTasksFailed": 0}}


def test_jobs_list_pages_through_and_shows_only_imgprocs(aws, s3control):
    s3control.add_response("list_jobs", {"Jobs": [
        listed("job-1", "imgproc reprocess s3://b/uploads/"),
        listed("job-2", "copy the archive")], "NextToken": "page-2"}, {"AccountId": ACCOUNT})
    s3control.add_response("list_jobs", {"Jobs": [
        listed("job-3", "imgproc reprocess s3://b/uploads/ --force", "Active")]},
        {"AccountId": ACCOUNT, "NextToken": "page-2"})
    result = run("jobs", "list", "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["jobId"], r["status"]) for r in rows] == [("job-3", "Active"),
                                                         ("job-1", "Complete")]
