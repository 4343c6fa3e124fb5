"""The stack watches and limits itself: each alarm's metric, threshold and target, the dashboard's
metrics, and the concurrency limits (docs/OPERATIONS.md says what each alarm means)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forgesyte_dev.template import load_template, resources_of
from tests.template.sam import resources

TEMPLATE = load_template()
ALARMS = resources_of(TEMPLATE, "AWS::CloudWatch::Alarm")
FUNCTIONS = ("Api", "Ingest", "Runner", "Webhook", "Reconcile")

# name → (namespace, metric, statistic, threshold, what the dimension names)
EXPECTED: dict[str, tuple[str, str, str, Any, Any]] = {
    **{
        f"{queue}Alarm": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            1,
            {"Fn::GetAtt": [f"{queue}Queue", "QueueName"]},
        )
        for queue in ("UploadDeadLetter", "WorkDeadLetter", "ReconcileDeadLetter", "WebhookDeadLetter")
    },
    "WorkQueueAgeAlarm": (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
        {"Ref": "WorkQueueMaxAgeSeconds"},
        {"Fn::GetAtt": ["WorkQueue", "QueueName"]},
    ),
    "BatchJobFailedAlarm": ("AWS/Events", "TriggeredRules", "Sum", 1, {"Ref": "ReconcileFunctionBatchFailures"}),
    **{
        f"{function}{metric}Alarm": ("AWS/Lambda", metric, "Sum", 1, {"Ref": f"{function}Function"})
        for function in FUNCTIONS
        for metric in ("Errors", "Throttles")
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_alarm_watches_its_metric_at_its_threshold_and_tells_the_topic(name: str) -> None:
    namespace, metric, statistic, threshold, dimension = EXPECTED[name]
    props = ALARMS[name]["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (namespace, metric, statistic)
    assert props["Threshold"] == threshold
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert [d["Value"] for d in props["Dimensions"]] == [dimension]
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert props["TreatMissingData"] == "notBreaching"  # no traffic is not trouble


def test_every_alarm_is_one_the_tests_know() -> None:
    assert set(ALARMS) == {*EXPECTED, "FailedJobRateAlarm"}


def test_the_failed_job_rate_divides_failed_by_ended_jobs_once_enough_ended() -> None:
    props = ALARMS["FailedJobRateAlarm"]["Properties"]
    queries = {query["Id"]: query for query in props["Metrics"]}
    for outcome in ("failed", "completed"):
        stat = queries[outcome]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "ForgeSyte"
        assert stat["Metric"]["MetricName"] == "JobsEnded"
        assert {"Name": "Outcome", "Value": outcome} in stat["Metric"]["Dimensions"]
        assert (stat["Stat"], stat["Period"]) == ("Sum", 900)
    expression = queries["rate"]["Expression"]
    assert ">= 5" in expression
    assert "100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0))" in expression
    assert [q["Id"] for q in props["Metrics"] if q["ReturnData"]] == ["rate"]
    assert props["Threshold"] == {"Ref": "FailedJobRatePercent"}
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_alarms_reach_an_email_only_when_one_is_given() -> None:
    subscription = TEMPLATE["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


def test_what_the_alarms_name_exists_once_sam_has_transformed_the_template() -> None:
    """The Batch failure rule is made by SAM from reconcile's event; the webhook DLQ and its alarms
    exist only with webhooks on, as the webhook function does."""
    transformed = resources()
    for name in ("WebhookFunction", "WebhookDeadLetterQueue", "WebhookDeadLetterAlarm", "WebhookErrorsAlarm"):
        assert transformed[name]["Condition"] == "EnableWebhooks"
    assert transformed["WebhookDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"
    rule_target = transformed["WebhookFunctionJobEnded"]["Properties"]["Targets"][0]
    assert rule_target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}}
    rule = transformed["ReconcileFunctionBatchFailures"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"]["EventPattern"]["detail"]["status"] == ["FAILED"]


def test_the_dashboard_shows_jobs_queues_run_times_and_cost_drivers() -> None:
    body = TEMPLATE["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    titles = " | ".join(w["properties"]["title"] for w in widgets)
    for words in ("Jobs by outcome", "Queue depth", "run time by plugin and tool", "GB-seconds", "vCPU-hours"):
        assert words in titles
    text = json.dumps(widgets)
    for metric in ("JobsEnded", "JobsFailed", "RunSeconds", "ComputeSeconds", "ApproximateNumberOfMessagesVisible"):
        assert metric in text


def test_the_stack_limits_its_own_concurrency() -> None:
    parameters = TEMPLATE["Parameters"]
    assert parameters["ApiReservedConcurrency"]["Default"] == 10
    assert TEMPLATE["Resources"]["ApiFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert TEMPLATE["Conditions"]["ReserveApiConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiReservedConcurrency"}, "0"]}]
    }
    assert parameters["WorkMaxConcurrency"]["Default"] == 60
    assert parameters["BatchMaxvCpus"]["Default"] == 16
    runner_events = TEMPLATE["Resources"]["RunnerFunction"]["Properties"]["Events"]
    (work,) = [e for e in runner_events.values() if e["Type"] == "SQS"]
    assert work["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WorkMaxConcurrency"}
    environment = TEMPLATE["Resources"]["BatchComputeEnvironment"]["Properties"]["ComputeResources"]
    assert environment["MaxvCpus"] == {"Ref": "BatchMaxvCpus"}
