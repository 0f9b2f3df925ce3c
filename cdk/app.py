#!/usr/bin/env python3
"""CDK entry point: `cd cdk && npx aws-cdk@2 deploy` (see README, "Deploy")."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from imgproc_cdk.settings import DeploySettings
from imgproc_cdk.stack import ImgprocStack

app = cdk.App()
ImgprocStack(
    app,
    app.node.try_get_context("stackName") or "imgproc",
    settings=DeploySettings.from_context(app),
    description="imgproc: S3 uploads to web-ready variants, placeholders and records",
)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
app.synth()
