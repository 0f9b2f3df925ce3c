"""Alarms an operator acts on, sent to one SNS topic (optionally e-mailed).

Errors mean the handler crashed; duration near the timeout means pictures are too big for
the memory size; throttles mean the reserved concurrency is too low; anything in the
dead-letter queue or an old message in the queue means work is waiting for a human. Many
FAILED uploads in a few minutes raise no function error and reach no dead-letter queue (a bad
picture is recorded, not retried): only the handler's `PermanentFailures` metric shows them,
so it has an alarm of its own, the one that catches a release that breaks every render.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from imgproc import telemetry

P95_DURATION_LIMIT = Duration.seconds(10)
OLDEST_MESSAGE_LIMIT = Duration.minutes(15)


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction,
                 queue: sqs.IQueue, dead_letters: sqs.IQueue, alarm_email: str | None,
                 permanent_failures: int) -> None:
        super().__init__(scope, construct_id)
        # A key of our own: CloudWatch cannot publish to a topic under the AWS-managed SNS key
        self.key = kms.Key(self, "AlarmsKey", enable_key_rotation=True,
                           description="imgproc alarm topic")
        self.key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                       "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self, "Alarms",
            display_name="imgproc alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchPublishes",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
        ))
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        five_minutes = Duration.minutes(5)
        self.alarms = [
            self._alarm("FunctionErrors", "the function failed (crashes, not bad pictures)",
                        function.metric_errors(period=five_minutes, statistic="Sum"), 0),
            self._alarm("SlowImages", "p95 duration is over 10 s: raise memory or limits",
                        function.metric_duration(period=five_minutes, statistic="p95"),
                        P95_DURATION_LIMIT.to_milliseconds()),
            self._alarm("Throttles", "invocations were throttled: raise reserved concurrency",
                        function.metric_throttles(period=five_minutes, statistic="Sum"), 0),
            self._alarm("DeadLetters", "messages are waiting in the dead-letter queue",
                        dead_letters.metric_approximate_number_of_messages_visible(
                            period=five_minutes, statistic="Maximum"), 0),
            self._alarm("QueueAge", "the oldest upload has waited over 15 minutes",
                        queue.metric_approximate_age_of_oldest_message(
                            period=five_minutes, statistic="Maximum"),
                        OLDEST_MESSAGE_LIMIT.to_seconds()),
            self._alarm("PermanentFailures",
                        f"over {permanent_failures} uploads FAILED in 5 minutes: read "
                        "`imgproc failures`",
                        cloudwatch.Metric(namespace=telemetry.NAMESPACE,
                                          metric_name=telemetry.PERMANENT_FAILURES,
                                          dimensions_map={"service": telemetry.SERVICE},
                                          period=five_minutes, statistic="Sum"),
                        permanent_failures),
        ]

    def _alarm(self, name: str, description: str, metric: cloudwatch.IMetric,
               threshold: float) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, name,
            alarm_description=f"imgproc: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        return alarm
