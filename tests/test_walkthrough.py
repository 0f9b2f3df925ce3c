"""README's walkthrough "from `cdk deploy` to the first picture", run as written.

The deploy line is synthesised with its context values; every `imgproc` line runs as a
subprocess against moto's server, where a CloudFormation stack named `imgproc` carries the
outputs `--stack` reads, the handler is fed from the S3-notified queue and `preview` stands in
for the CDN (CloudFront's domain is not reachable here, so `smoke` also gets `--cdn-url`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import requests

from tests.support.images import plain_jpeg
from tests.support.moto_pipeline import IMGPROC, REGION, QueuePump
from tests.test_web_app_e2e import preview_cdn

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return [line for line in block.splitlines() if line and not line.startswith(("#", "```"))]


def test_the_walkthrough_has_the_steps_it_promises():
    commands = walkthrough()
    assert commands[0].startswith("npx aws-cdk@2 deploy")
    assert [shlex.split(c)[3] for c in commands[1:]] == [
        "smoke", "upload", "presign", "status"]
    assert all(c.startswith("imgproc --stack imgproc ") for c in commands[1:])


def test_the_deploy_line_allows_the_apps_origin(tmp_path):
    from tests.cdk.test_web_stack import media_bucket, only, synth

    context = dict(re.findall(r"-c (\w+)=(\S+)", walkthrough()[0]))
    assert context["corsOrigins"] == "https://app.example.com"
    resources = synth(tmp_path, **context)
    cors = only(resources, "AWS::CloudFront::ResponseHeadersPolicy")[
        "ResponseHeadersPolicyConfig"]["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["https://app.example.com"]}
    [rule] = media_bucket(resources)["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == ["https://app.example.com"]


def run(line: str, stack, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = shlex.split(line)
    assert argv[0] == "imgproc"
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint, "AWS_REGION": REGION,
           "COLUMNS": "200"}
    return subprocess.run([IMGPROC, *argv[1:], *extra], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=180)


def test_the_walkthrough_commands_work_against_the_stack(stack, tmp_path):
    smoke, upload, presign, status = walkthrough()[1:]
    (tmp_path / "photo.jpg").write_bytes(plain_jpeg(1200, 900))
    with QueuePump(stack) as pump, preview_cdn(stack, "https://app.example.com") as cdn:
        checked = run(smoke, stack, tmp_path, "--cdn-url", cdn)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "FAIL" not in checked.stdout and "pass clean-up" in checked.stdout

        uploaded = run(upload, stack, tmp_path)
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        assert "COMPLETE uploads/u1/photo.jpg" in uploaded.stdout
        assert "webp-large" in uploaded.stdout

        signed = run(presign, stack, tmp_path)
        assert signed.returncode == 0, signed.stderr
        form = json.loads(signed.stdout)
        answer = requests.post(form["url"], data={**form["fields"], "Content-Type": "image/jpeg"},
                               files={"file": ("avatar.jpg", plain_jpeg(), "image/jpeg")},
                               timeout=30)
        assert answer.status_code == 204, answer.text

        followed = run(status, stack, tmp_path)
        assert followed.returncode == 0, followed.stdout + followed.stderr
        assert "COMPLETE" in followed.stdout
    assert pump.failures == []
