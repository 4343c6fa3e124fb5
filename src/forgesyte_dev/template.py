"""template.yaml, read and applied to a local (moto) AWS: the same resources, the same settings.

Tests and the local stack both build their bucket, table, queues and notifications here, from the
template's own properties, so they cannot drift from what ``sam deploy`` creates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]  # the checkout: repository tools (images, lock) work there
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path | None = None) -> dict[str, Any]:
    """template.yaml of the project `forgesyte` runs in (see :mod:`forgesyte_dev.project`)."""
    if path is None:
        from forgesyte_dev.project import project_dir

        path = project_dir() / "template.yaml"
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - safe loader subclass
    return data


@dataclass
class ProvisionedStack:
    """Physical names of the template's resources in the local AWS."""

    prefix: str
    region: str
    parameters: dict[str, str]
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> name / URL
    arns: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=dict)

    # -- intrinsic functions, enough for this template ------------------------------------

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg in self.parameters:
                return self.parameters[arg]
            if arg in self.physical:
                return self.physical[arg]
            pseudo = {
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT,
                "AWS::StackName": self.prefix,
                "AWS::Partition": "aws",
                "AWS::NoValue": None,
            }
            return pseudo[arg]
        if key == "Fn::GetAtt":
            logical, attribute = arg
            if attribute == "Arn":
                return self.arns[logical]
            if attribute == "QueueName":
                return self.physical[logical].rsplit("/", 1)[-1]
            raise KeyError(f"GetAtt {logical}.{attribute}")
        if key == "Fn::If":
            cond, yes, no = arg
            return self.resolve(yes if self.condition(cond) else no)
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return left == right
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(v) for v in arg)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(i) for i in self.resolve(items))
        if key == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(index)]
        if key == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            for name, sub in names.items():
                text = text.replace("${" + name + "}", str(sub))
            while "${" in text:
                start = text.index("${")
                end = text.index("}", start)
                inner = text[start + 2 : end]
                sub = self.resolve({"Fn::GetAtt": inner.split(".", 1)} if "." in inner else {"Ref": inner})
                text = text[:start] + str(sub) + text[end + 1 :]
            return text
        return {key: self.resolve(arg)}

    def environment(self) -> dict[str, str]:
        """The template's Globals environment, resolved to the local resources.

        ``AWS_ENDPOINT_URL`` is declared empty only so `sam local --env-vars` may set it; an empty
        value here would hide the local endpoint of whoever merges this in.
        """
        variables = self.template["Globals"]["Function"]["Environment"]["Variables"]
        resolved = {name: str(self.resolve(value)) for name, value in variables.items()}
        if not resolved.get("AWS_ENDPOINT_URL"):
            resolved.pop("AWS_ENDPOINT_URL", None)
        return resolved


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def provision(
    s3: Any,
    dynamodb: Any,
    sqs: Any,
    *,
    prefix: str = "forgesyte",
    region: str = "us-east-1",
    overrides: dict[str, str] | None = None,
    template: dict[str, Any] | None = None,
    events: Any | None = None,
) -> ProvisionedStack:
    """Create the template's bucket, table, queues, event bus and bucket → queue notification locally."""
    template = template or load_template()
    stack = ProvisionedStack(prefix, region, {**parameter_defaults(template), **(overrides or {})}, template=template)

    if events is None:
        import boto3

        events = boto3.client("events", region_name=region)
    for logical, spec in resources_of(template, "AWS::Events::EventBus").items():
        name = str(stack.resolve(spec["Properties"]["Name"]))
        if name not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}:
            events.create_event_bus(Name=name)
        stack.physical[logical] = name
        stack.arns[logical] = f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{name}"

    queues = resources_of(template, "AWS::SQS::Queue")
    # Dead-letter queues first: the others name them in their redrive policies.
    for logical, spec in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"]):
        props = spec["Properties"]
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(stack.resolve(props["RedrivePolicy"]))
        url = sqs.create_queue(QueueName=f"{prefix}-{logical}", Attributes=attributes)["QueueUrl"]
        stack.physical[logical] = url
        stack.arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    for logical, spec in resources_of(template, "AWS::DynamoDB::Table").items():
        props = spec["Properties"]
        name = f"{prefix}-{logical}"
        if name not in dynamodb.list_tables()["TableNames"]:  # attaching to a stack already provisioned
            dynamodb.create_table(
                TableName=name,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
                BillingMode=props["BillingMode"],
            )
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        stack.physical[logical] = name
        stack.arns[logical] = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"

    for logical, spec in resources_of(template, "AWS::S3::Bucket").items():
        props = spec["Properties"]
        name = f"{prefix}-{logical.lower()}"
        if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=name)
        stack.physical[logical] = name
        stack.arns[logical] = f"arn:aws:s3:::{name}"
        if "CorsConfiguration" in props:
            # CloudFormation's names for two of the S3 API's fields.
            renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}
            rules = [
                {renamed.get(k, k): int(v) if k == "MaxAge" else v for k, v in rule.items()}
                for rule in stack.resolve(props["CorsConfiguration"])["CorsRules"]
            ]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        if "LifecycleConfiguration" in props:
            rules = []
            for rule in stack.resolve(props["LifecycleConfiguration"])["Rules"]:
                converted: dict[str, Any] = {
                    "ID": rule["Id"],
                    "Status": rule["Status"],
                    "Filter": {"Prefix": rule.get("Prefix", "")},
                }
                if "ExpirationInDays" in rule:
                    converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
                if "AbortIncompleteMultipartUpload" in rule:
                    converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
                rules.append(converted)
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        notifications = props.get("NotificationConfiguration", {})
        queue_configs = [
            {
                "QueueArn": stack.resolve(conf["Queue"]),
                "Events": [conf["Event"]],
                "Filter": {"Key": {"FilterRules": stack.resolve(conf["Filter"]["S3Key"]["Rules"])}},
            }
            for conf in notifications.get("QueueConfigurations", [])
        ]
        if queue_configs:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": queue_configs}
            )
    return stack
