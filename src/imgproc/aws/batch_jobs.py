"""S3 Batch Operations jobs that invoke the imgproc function over many originals.

`reprocess --remote --engine batch-operations` plans a job (`JobPlan`), turns it into
`create_job`'s parameters (`create_job_request`, pure) and creates it; `imgproc jobs` describes
and lists them. Batch Operations lists the objects itself (a manifest generator filtered to the
prefix) or reads a given CSV or S3 Inventory manifest, invokes the function once per object
with retries, and writes a completion report of the failed tasks under the report prefix.

The client token is a hash of the request and the UTC day: a retried command (same plan, same
day) gets the job it already created back instead of a second one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, NotFound, TransientError
from .clients import error_code, http_status
from .events import FORCE_ARGUMENT

CSV_FORMAT = "S3BatchOperations_CSV_20180820"
INVENTORY_FORMAT = "S3InventoryReport_CSV_20161130"
REPORT_FORMAT = "Report_CSV_20180820"
# Only failed tasks: the records already say what succeeded, and a million-row report of
# "Succeeded" hides the few lines an operator has to act on.
REPORT_SCOPE = "FailedTasksOnly"
PRIORITY = 10  # higher runs first among this account's jobs; nothing else of ours competes
DESCRIPTION = "imgproc reprocess"  # every job imgproc creates starts so; `jobs list` shows them
DONE = frozenset({"Complete", "Failed", "Cancelled"})
_USAGE_CODES = {"InvalidRequest", "BadRequestException", "IdempotencyException",
                "AccessDenied", "AccessDeniedException", "InvalidParameter"}


@dataclass(frozen=True)
class Caller:
    """Who runs the command: the account the job belongs to, and its partition for ARNs."""

    account_id: str
    partition: str = "aws"

    @classmethod
    def of(cls, sts) -> Caller:
        try:
            identity = sts.get_caller_identity()
        except (ClientError, BotoCoreError) as exc:
            raise ConfigError(f"Cannot tell which AWS account to create the job in: {exc}.") \
                from exc
        return cls(identity["Account"], identity["Arn"].split(":")[1])

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    def function_arn(self, name_or_arn: str, region: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return f"arn:{self.partition}:lambda:{region}:{self.account_id}:function:{name_or_arn}"


@dataclass(frozen=True)
class Manifest:
    """An object that lists the job's objects: a `bucket,key` CSV or an Inventory manifest."""

    bucket: str
    key: str
    etag: str
    version_id: str | None = None

    @property
    def inventory(self) -> bool:
        return self.key.rsplit("/", 1)[-1] == "manifest.json"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_request(self, caller: Caller) -> dict:
        spec = ({"Format": INVENTORY_FORMAT} if self.inventory
                else {"Format": CSV_FORMAT, "Fields": ["Bucket", "Key"]})
        location = {"ObjectArn": f"{caller.bucket_arn(self.bucket)}/{self.key}",
                    "ETag": self.etag.strip('"')}
        if self.version_id:
            location["ObjectVersionId"] = self.version_id
        return {"Spec": spec, "Location": location}


@dataclass(frozen=True)
class JobPlan:
    """Everything that decides a job; two equal plans on one day are one job."""

    caller: Caller
    bucket: str
    prefix: str
    function_arn: str
    role_arn: str
    report_prefix: str
    force: bool = False
    manifest: Manifest | None = None  # None: S3 lists `prefix` itself
    day: str = field(default_factory=lambda: datetime.now(UTC).date().isoformat())

    @property
    def report_location(self) -> str:
        return f"s3://{self.bucket}/{self.report_prefix}"


def create_job_request(plan: JobPlan) -> dict:
    """`s3control.create_job`'s parameters for a plan."""
    caller = plan.caller
    source = plan.manifest.uri if plan.manifest else f"s3://{plan.bucket}/{plan.prefix}"
    request = {
        "AccountId": caller.account_id,
        "ConfirmationRequired": False,
        "Operation": {"LambdaInvoke": {
            "FunctionArn": plan.function_arn,
            "InvocationSchemaVersion": "2.0",  # the one that carries UserArguments
            "UserArguments": {FORCE_ARGUMENT: "true" if plan.force else "false"},
        }},
        "Report": {
            "Bucket": caller.bucket_arn(plan.bucket),
            "Format": REPORT_FORMAT,
            "Enabled": True,
            "Prefix": plan.report_prefix.rstrip("/"),  # S3 adds /job-{id}/
            "ReportScope": REPORT_SCOPE,
        },
        "Priority": PRIORITY,
        "RoleArn": plan.role_arn,
        "Description": f"{DESCRIPTION} {source}{' --force' if plan.force else ''}"[:256],
    }
    if plan.manifest:
        request["Manifest"] = plan.manifest.to_request(caller)
    else:
        request["ManifestGenerator"] = {"S3JobManifestGenerator": {
            "ExpectedBucketOwner": caller.account_id,
            "SourceBucket": caller.bucket_arn(plan.bucket),
            "EnableManifestOutput": False,  # the completion report is the record we keep
            "Filter": {"KeyNameConstraint": {"MatchAnyPrefix": [plan.prefix]}},
        }}
    request["ClientRequestToken"] = client_token(request, plan.day)
    return request


def client_token(request: dict, day: str) -> str:
    """64 hex characters (the parameter's limit) from the request and the day."""
    canonical = json.dumps({"request": request, "day": day}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- manifests ------------------------------------------------------------------------------


def failed_keys_csv(bucket: str, keys: list[str]) -> bytes:
    """A Batch Operations CSV manifest of `keys`. Keys must be URL-encoded there; '%20' (not
    '+') for a space reads back exactly whether the key is later decoded as a URL or as a
    form (the handler uses the form rule, as for S3 events)."""
    return "".join(f"{bucket},{quote(key, safe='/')}\n" for key in keys).encode("utf-8")


def failed_manifest_key(report_prefix: str, body: bytes) -> str:
    """Named by its content: a retry writes the same object, so the job's request and token
    stay the same."""
    return f"{report_prefix}manifests/failed-{hashlib.sha256(body).hexdigest()[:16]}.csv"


def write_failed_manifest(s3, bucket: str, report_prefix: str, keys: list[str]) -> Manifest:
    """Put the CSV of `keys` under the report prefix, where the job's role may read it."""
    body = failed_keys_csv(bucket, keys)
    key = failed_manifest_key(report_prefix, body)
    try:
        response = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    except (ClientError, BotoCoreError) as exc:
        raise TransientError(f"Writing the manifest s3://{bucket}/{key} failed: {exc}.") from exc
    return Manifest(bucket, key, response["ETag"], response.get("VersionId"))


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key or key.endswith("/"):
        raise ConfigError(f"--manifest must name one object as s3://BUCKET/KEY, got {uri!r}.")
    if not (key.endswith(".csv") or key.rsplit("/", 1)[-1] == "manifest.json"):
        raise ConfigError(f"--manifest {uri} is neither a CSV (.csv, lines of bucket,key) nor "
                          "an S3 Inventory manifest.json.")
    return parsed.netloc, key


def find_manifest(s3, uri: str) -> Manifest:
    """The given manifest, with the ETag (and version) Batch Operations requires."""
    bucket, key = parse_s3_uri(uri)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if http_status(exc) in (403, 404) or error_code(exc) in ("404", "NoSuchKey"):
            reason = "not found" if http_status(exc) == 404 else error_code(exc) or "denied"
            raise ConfigError(f"The manifest {uri} cannot be read ({reason}): check its name "
                              "and that it exists.") from exc
        raise TransientError(f"Cannot read the manifest {uri}: {exc}.") from exc
    except BotoCoreError as exc:
        raise TransientError(f"Cannot read the manifest {uri}: {exc}.") from exc
    return Manifest(bucket, key, head["ETag"], head.get("VersionId"))


# --- creating, describing and listing ---------------------------------------------------------


def create_job(s3control, request: dict) -> str:
    """The new (or, for a repeated token, the existing) job's id."""
    return _call(s3control.create_job, "Creating the Batch Operations job", **request)["JobId"]


@dataclass(frozen=True)
class JobState:
    """What `describe_job` or `list_jobs` says about a job, in the CLI's words."""

    job_id: str
    status: str
    total: int | None
    succeeded: int
    failed: int
    description: str = ""
    created: str = ""
    report: str | None = None  # s3://bucket/prefix/job-{id}/, once the job writes it
    reasons: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def ok(self) -> bool:
        return self.status == "Complete" and self.failed == 0

    @classmethod
    def from_aws(cls, job: dict) -> JobState:
        progress = job.get("ProgressSummary") or {}
        report = job.get("Report") or {}
        location = None
        if report.get("Enabled") and report.get("Bucket"):
            prefix = f"{report['Prefix'].rstrip('/')}/" if report.get("Prefix") else ""
            location = f"s3://{report['Bucket'].rsplit(':', 1)[-1]}/{prefix}job-{job['JobId']}/"
        reasons = [f"{r.get('FailureCode', '')}: {r.get('FailureReason', '')}".strip(": ")
                   for r in job.get("FailureReasons") or []]
        if job.get("StatusUpdateReason"):
            reasons.append(job["StatusUpdateReason"])
        created = job.get("CreationTime")
        return cls(job_id=job["JobId"], status=job.get("Status", ""),
                   total=progress.get("TotalNumberOfTasks"),
                   succeeded=progress.get("NumberOfTasksSucceeded", 0),
                   failed=progress.get("NumberOfTasksFailed", 0),
                   description=job.get("Description", ""),
                   created=created.isoformat() if created else "",
                   report=location, reasons=reasons)

    def to_json(self) -> dict:
        return {"jobId": self.job_id, "status": self.status,
                "tasks": {"total": self.total, "succeeded": self.succeeded,
                          "failed": self.failed},
                "description": self.description, "created": self.created,
                "report": self.report, "reasons": self.reasons}


def describe_job(s3control, account_id: str, job_id: str) -> JobState:
    job = _call(s3control.describe_job, f"Describing job {job_id}", AccountId=account_id,
                JobId=job_id)["Job"]
    return JobState.from_aws(job)


def list_jobs(s3control, account_id: str) -> list[JobState]:
    """This account's (region's) jobs that imgproc created, newest first."""
    jobs, token = [], None
    while True:
        page = _call(s3control.list_jobs, "Listing Batch Operations jobs", AccountId=account_id,
                     **({"NextToken": token} if token else {}))
        jobs += [JobState.from_aws(job) for job in page.get("Jobs", [])
                 if job.get("Description", "").startswith(DESCRIPTION)]
        token = page.get("NextToken")
        if not token:
            return sorted(jobs, key=lambda job: job.created, reverse=True)


def _call(method, doing: str, **params) -> dict:
    try:
        return method(**params)
    except ClientError as exc:
        code, message = error_code(exc), exc.response.get("Error", {}).get("Message", "")
        if code in ("NoSuchJob", "NotFoundException") or http_status(exc) == 404:
            raise NotFound(f"{doing}: no such job in account {params.get('AccountId')} "
                           "(check the id and --region).") from exc
        if code in _USAGE_CODES:
            raise ConfigError(f"{doing} was refused ({code}): {message.rstrip('.')}.") from exc
        raise TransientError(f"{doing} failed ({code or http_status(exc)}): "
                             f"{message.rstrip('.')}.") from exc
    except BotoCoreError as exc:
        raise TransientError(f"{doing} failed: {exc}.") from exc
