#!/usr/bin/env python3
"""CDK entry point: `cd cdk && npx aws-cdk@2 deploy` (see README, "Deploy")."""

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from imgproc_cdk.settings import DeploySettings, SettingsError
from imgproc_cdk.stack import ImgprocStack

app = cdk.App()
try:
    settings = DeploySettings.from_context(app)
except SettingsError as exc:  # one sentence, as the CLI says it; no traceback
    sys.exit(f"imgproc: {exc}")
ImgprocStack(
    app,
    app.node.try_get_context("stackName") or "imgproc",
    settings=settings,
    description="imgproc: S3 uploads to web-ready variants, placeholders and records",
)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
app.synth()
