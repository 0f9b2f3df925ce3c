"""The synthesised template passes cfn-lint and cdk-nag's AwsSolutions checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CDK_DIR = Path(__file__).resolve().parents[2] / "cdk"


def test_template_passes_cfn_lint(synthesized):
    _stack, outdir = synthesized
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--config-file", str(CDK_DIR / ".cfnlintrc.yaml"),
         str(outdir / "imgproc.template.json")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_nag_finds_nothing_unacknowledged_and_every_acknowledgment_has_a_reason(synthesized):
    _stack, outdir = synthesized  # synthesis itself fails on an unacknowledged finding
    report = json.loads((outdir / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if "AwsSolutions" in p["pluginName"]]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    acknowledged = nag["suppressedViolations"]
    assert {v["ruleName"].split("[")[0] for v in acknowledged} == {
        "AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4", "AwsSolutions-L1",
        "AwsSolutions-IAM4", "AwsSolutions-IAM5"}
    for violation in acknowledged:
        assert len(violation.get("reason", "")) >= 60, violation["ruleName"]


def test_the_function_code_is_never_acknowledged_away(synthesized):
    """Only the runtime-version finding is accepted on the function; nothing about its access."""
    _stack, outdir = synthesized
    report = json.loads((outdir / "validation-report.json").read_text())
    on_function = {v["ruleName"] for p in report["pluginReports"]
                   for v in p["violations"] + p["suppressedViolations"]
                   if any("Processing/Function" in c["constructPath"]
                          for c in v["violatingConstructs"])}
    assert on_function == {"AwsSolutions-L1"}
