"""`imgproc triggers`: the rollback switches, over plain boto3 clients.

Two switches, for two situations:
- `disable`/`enable` remove the bucket's WHOLE notification configuration and put back exactly
  what was there (kept verbatim in the `config#triggers` record). Uploads made meanwhile raise
  no events at all: afterwards `reprocess` backfills them.
- `pause`/`resume` disable and enable the Lambda's SQS event source mappings. Events still
  reach the queue and wait there (within its retention period) until `resume`.

Each operation returns a small JSON-able dict for the CLI to print. A wrong bucket or function
name is a `ConfigError`; anything else AWS says is a `TransientError`.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, NotFound, TransientError
from ..records import TRIGGERS_ID, triggers_record
from .clients import error_code

# Configuration key in GetBucketNotificationConfiguration → short kind and its ARN field
KINDS = {
    "QueueConfigurations": ("Queue", "QueueArn"),
    "TopicConfigurations": ("Topic", "TopicArn"),
    "LambdaFunctionConfigurations": ("Lambda", "LambdaFunctionArn"),
}
_NOT_FOUND = {"NoSuchBucket", "ResourceNotFoundException", "404"}


# --- bucket notifications ---------------------------------------------------------------------


def read_notifications(s3, bucket: str) -> dict:
    """The bucket's whole notification configuration, as PutBucketNotificationConfiguration
    takes it back (only `ResponseMetadata` dropped)."""
    response = _call(s3.get_bucket_notification_configuration, f"bucket {bucket}", Bucket=bucket)
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def describe_notifications(configuration: dict) -> list[dict]:
    """One line per configuration: kind, id, destination ARN, events and key filters."""
    found = []
    for field, (kind, arn_field) in KINDS.items():
        for item in configuration.get(field) or []:
            rules = item.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            found.append({"kind": kind, "id": item.get("Id"), "arn": item.get(arn_field),
                          "events": item.get("Events", []),
                          "filters": {r["Name"].lower(): r["Value"] for r in rules}})
    if "EventBridgeConfiguration" in configuration:
        found.append({"kind": "EventBridge", "id": None, "arn": None,
                      "events": ["*"], "filters": {}})
    return found


def triggers_status(s3, lambda_, records, bucket: str, function_name: str | None) -> dict:
    notifications = describe_notifications(read_notifications(s3, bucket))
    saved = records.get(TRIGGERS_ID)
    counts = {kind: 0 for kind in ("Queue", "Topic", "Lambda", "EventBridge")}
    for item in notifications:
        counts[item["kind"]] += 1
    return {
        "bucket": bucket,
        "notifications": notifications,
        "counts": counts,
        "enabled": bool(notifications),
        "saved": saved is not None,
        "savedAt": saved.get("savedAt") if saved else None,
        "savedCount": len(describe_notifications(saved["configuration"])) if saved else 0,
        "function": function_name,
        "mappings": None if function_name is None else [
            _mapping_view(m) for m in sqs_mappings(lambda_, function_name)],
    }


def disable_triggers(s3, records, bucket: str) -> dict:
    """Save the whole configuration in `config#triggers`, then remove it from the bucket."""
    configuration = read_notifications(s3, bucket)
    saved = records.get(TRIGGERS_ID)
    if not describe_notifications(configuration):
        action = "already-disabled" if saved else "nothing-to-disable"
        return {"bucket": bucket, "action": action, "removed": 0,
                "savedAt": saved.get("savedAt") if saved else None}
    record = triggers_record(bucket, configuration, saved)
    records.put(record)  # saved before removing: a failure below loses nothing
    _call(s3.put_bucket_notification_configuration, f"bucket {bucket}", Bucket=bucket,
          NotificationConfiguration={})
    return {"bucket": bucket, "action": "disabled",
            "removed": len(describe_notifications(configuration)),
            "savedAt": record["savedAt"], "replacedSaved": saved is not None}


def enable_triggers(s3, records, bucket: str, skip_validation: bool = False) -> dict:
    """Put back exactly the saved configuration, then delete the `config#triggers` record."""
    saved = records.get(TRIGGERS_ID)
    current = read_notifications(s3, bucket)
    if saved is None:
        if describe_notifications(current):
            return {"bucket": bucket, "action": "already-enabled", "restored": 0}
        raise NotFound(f"Nothing to enable: triggers of bucket {bucket} were not disabled with "
                       f"imgproc (there is no {TRIGGERS_ID} record).")
    if saved.get("bucket") not in (None, bucket):
        raise ConfigError(f"The saved triggers belong to bucket {saved['bucket']}, not {bucket}: "
                          "run enable with that bucket.")
    options = {"SkipDestinationValidation": True} if skip_validation else {}
    _call(s3.put_bucket_notification_configuration, f"bucket {bucket}", Bucket=bucket,
          NotificationConfiguration=saved["configuration"], **options)
    records.delete([TRIGGERS_ID])
    return {"bucket": bucket, "action": "enabled",
            "restored": len(describe_notifications(saved["configuration"])),
            "savedAt": saved.get("savedAt"), "replacedLive": bool(describe_notifications(current))}


# --- the Lambda's queue event source mappings -------------------------------------------------


def sqs_mappings(lambda_, function_name: str) -> list[dict]:
    """The function's event source mappings whose source is an SQS queue."""
    paginator = lambda_.get_paginator("list_event_source_mappings")
    pages = _call(lambda p: list(p.paginate(FunctionName=function_name)),
                  f"function {function_name}", paginator)
    return [m for page in pages for m in page.get("EventSourceMappings", [])
            if m.get("EventSourceArn", "").split(":")[2:3] == ["sqs"]]


def pause(lambda_, function_name: str) -> list[dict]:
    return _set_enabled(lambda_, function_name, False)


def resume(lambda_, function_name: str) -> list[dict]:
    return _set_enabled(lambda_, function_name, True)


def _set_enabled(lambda_, function_name: str, enabled: bool) -> list[dict]:
    mappings = sqs_mappings(lambda_, function_name)
    if not mappings:
        raise ConfigError(f"Function {function_name} has no SQS event source mapping to "
                          f"{'resume' if enabled else 'pause'}: check --function or --stack.")
    target = ("Enabled", "Enabling") if enabled else ("Disabled", "Disabling")
    results = []
    for mapping in mappings:
        before = mapping.get("State")
        if before in target:
            results.append({**_mapping_view(mapping), "before": before, "changed": False})
            continue
        updated = _call(lambda_.update_event_source_mapping, f"function {function_name}",
                        UUID=mapping["UUID"], Enabled=enabled)
        results.append({**_mapping_view(updated), "before": before, "changed": True})
    return results


def _mapping_view(mapping: dict) -> dict:
    return {"uuid": mapping["UUID"], "queueArn": mapping.get("EventSourceArn"),
            "state": mapping.get("State"), "enabled": mapping.get("State") in ("Enabled",
                                                                              "Enabling")}


def _call(operation, what: str, *args, **kwargs):
    """One AWS call; a missing bucket or function is the user's to fix, the rest transient."""
    try:
        return operation(*args, **kwargs)
    except ClientError as exc:
        if error_code(exc) in _NOT_FOUND:
            raise ConfigError(f"The {what} was not found: {exc}.") from exc
        raise TransientError(f"AWS refused an operation on the {what}: {exc}.") from exc
    except BotoCoreError as exc:
        raise TransientError(f"Cannot reach AWS for the {what}: {exc}.") from exc
