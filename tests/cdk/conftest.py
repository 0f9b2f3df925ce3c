"""Synthesise the stack once (bundling skipped: the bundle has its own test) for every test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
CDK_DIR = Path(__file__).resolve().parents[2] / "cdk"


def make_app(outdir: Path, **context):
    """An App with cdk.json's context, as `cdk synth` would make it from cdk/."""
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    settings = json.loads((CDK_DIR / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(outdir),
                  context={**settings, "aws:cdk:bundling-stacks": [], **context})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    from imgproc_cdk.settings import DeploySettings
    from imgproc_cdk.stack import ImgprocStack

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = make_app(outdir, alarmEmail="ops@example.com")
    stack = ImgprocStack(app, "imgproc", settings=DeploySettings.from_context(app))
    app.synth()  # raises if cdk-nag finds anything unacknowledged
    return stack, outdir


@pytest.fixture(scope="session")
def template(synthesized):
    from aws_cdk.assertions import Template

    _stack, outdir = synthesized
    return Template.from_json(json.loads((outdir / "imgproc.template.json").read_text()))


@pytest.fixture(scope="session")
def resources(synthesized) -> dict:
    _stack, outdir = synthesized
    return json.loads((outdir / "imgproc.template.json").read_text())["Resources"]
