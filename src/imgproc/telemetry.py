"""Names of what the function reports to CloudWatch, defined once: the handler emits them and
the CDK app alarms on them."""

NAMESPACE = "imgproc"  # the metrics' namespace
SERVICE = "imgproc"  # Powertools' `service`: the logs' field and the metrics' dimension
PERMANENT_FAILURES = "PermanentFailures"  # FAILED uploads (bad pictures), per object
TRANSIENT_FAILURES = "TransientFailures"  # RETRY outcomes, per object
