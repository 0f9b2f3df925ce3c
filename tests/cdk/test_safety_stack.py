"""Nothing lost in the bucket: the media bucket is versioned, noncurrent variants expire after 7
days, noncurrent originals after `keepDeletedOriginalsDays`, and the delete markers left with
no versions behind them are removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from imgproc.config import Config
from tests.cdk.conftest import CDK_DIR, make_app
from tests.cdk.test_web_stack import media_bucket, synth

DEFAULTS = Config()


def rules_by_id(props: dict) -> dict:
    return {rule.get("Id"): rule for rule in props["LifecycleConfiguration"]["Rules"]}


def noncurrent_rule(prefix: str, days: int) -> dict:
    return {"Prefix": prefix, "Status": "Enabled", "NoncurrentVersionExpiration": {
        "NoncurrentDays": days}, "ExpiredObjectDeleteMarker": True}


def test_media_bucket_is_versioned(resources):
    assert media_bucket(resources)["VersioningConfiguration"] == {"Status": "Enabled"}
    logs = [r["Properties"] for r in resources.values()
            if r["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" not in r["Properties"]]
    assert len(logs) == 1 and "VersioningConfiguration" not in logs[0]  # logs just expire


def test_noncurrent_variants_go_after_a_week_and_deleted_originals_after_30_days(resources):
    rules = rules_by_id(media_bucket(resources))
    assert rules == {
        None: {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
               "Status": "Enabled"},
        "NoncurrentVariants": {"Id": "NoncurrentVariants",
                               **noncurrent_rule(DEFAULTS.output_prefix, 7)},
        "DeletedOriginals": {"Id": "DeletedOriginals",
                             **noncurrent_rule(DEFAULTS.input_prefix, 30)},
        "OriginalsToIntelligentTiering": {
            "Id": "OriginalsToIntelligentTiering", "Prefix": DEFAULTS.input_prefix,
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}]},
    }
    assert (DEFAULTS.input_prefix, DEFAULTS.output_prefix) == ("uploads/", "processed/")


def test_no_rule_expires_current_versions(resources):
    """S3 refuses ExpiredObjectDeleteMarker beside ExpirationInDays/ExpirationDate (cfn-lint
    does not check it), and a current original or variant must never expire by age."""
    for rule in media_bucket(resources)["LifecycleConfiguration"]["Rules"]:
        assert not {"ExpirationInDays", "ExpirationDate"} & set(rule), rule


@pytest.mark.parametrize("value", ["90", 90])
def test_keep_deleted_originals_days_from_context(tmp_path, value):
    rules = rules_by_id(media_bucket(synth(tmp_path, keepDeletedOriginalsDays=value)))
    assert rules["DeletedOriginals"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rules["NoncurrentVariants"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}


@pytest.mark.parametrize("value", ["0", "3651", "-5", "1.5", "30d", "thirty", "²"])
def test_a_bad_keep_deleted_originals_days_is_named(tmp_path, value):
    from imgproc_cdk.settings import DeploySettings, SettingsError

    app = make_app(tmp_path, keepDeletedOriginalsDays=value)
    with pytest.raises(SettingsError) as caught:
        DeploySettings.from_context(app)
    assert str(caught.value) == (
        "-c keepDeletedOriginalsDays: expected a whole number of days from 1 to 3650, "
        f"got {value!r}.")


def test_a_bad_keep_deleted_originals_days_stops_the_synth(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=CDK_DIR, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(
            {"keepDeletedOriginalsDays": "0", "aws:cdk:bundling-stacks": []}),
             "CDK_OUTDIR": str(tmp_path / "out")})
    assert result.returncode == 1
    assert ("imgproc: -c keepDeletedOriginalsDays: expected a whole number of days from 1 to "
            "3650, got '0'." in result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_the_rules_follow_the_configs_prefixes(tmp_path):
    config = tmp_path / "imgproc.toml"
    config.write_text('input_prefix = "media/"\noutput_prefix = "out/"\n')
    rules = rules_by_id(media_bucket(synth(tmp_path, config=str(config),
                                           keepDeletedOriginalsDays="14")))
    assert rules["NoncurrentVariants"] == {"Id": "NoncurrentVariants",
                                           **noncurrent_rule("out/", 7)}
    assert rules["DeletedOriginals"] == {"Id": "DeletedOriginals",
                                         **noncurrent_rule("media/", 14)}
    assert rules["OriginalsToIntelligentTiering"]["Prefix"] == "media/"
    prefixes = json.dumps(list(rules.values()))
    assert "uploads/" not in prefixes and "processed/" not in prefixes


def test_an_existing_bucket_keeps_its_own_versioning_and_lifecycle(tmp_path):
    resources = synth(tmp_path, bucketName="legacy-uploads", keepDeletedOriginalsDays="90")
    (logs,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::S3::Bucket"]
    assert "VersioningConfiguration" not in logs
    assert "NoncurrentVersionExpiration" not in json.dumps(logs)
    assert not [r for r in resources.values()
                if "legacy-uploads" in json.dumps(r) and "Versioning" in json.dumps(r)]
