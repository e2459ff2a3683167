"""The AWS side of the release pipeline, read from deploy/aws/github-oidc.yaml.

Who may assume the role: only GitHub's OIDC tokens minted for sts.amazonaws.com whose `sub` is
exactly one repository and one environment or branch (StringEquals, no wildcard, and parameters
that cannot smuggle one in). What it may do: push to one ECR repository; the only `*` resource
is ecr:GetAuthorizationToken, which AWS offers on no narrower resource. The same checks run on a
deliberately wrong template, so they are proven able to fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "github-oidc.yaml"
BAD_TEMPLATE = ROOT / "tests" / "fixtures" / "ci" / "cfn" / "oidc-policy-bad.yaml"

ISSUER = "token.actions.githubusercontent.com"
PUSH_ACTIONS = {
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
}
# The created repository, or the one named by RepositoryName in this account and region.
REPOSITORY_ARNS = [
    {"Fn::GetAtt": ["Repository", "Arn"]},
    {
        "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}"
        ":repository/${RepositoryName}"
    },
]
EXACT_SUB = re.compile(
    r"^repo:\$\{GitHubOrg\}/\$\{GitHubRepo\}:"
    r"(?:environment:\$\{Environment\}|ref:refs/heads/\$\{Branch\})$"
)


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short tags (!Ref, !Sub, ...) as their long form."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    loader = CfnLoader(path.read_text(encoding="utf-8"))
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    assert isinstance(data, dict)
    return data


def branches(value: Any) -> list[Any]:
    """Every value an expression can take: both arms of each Fn::If, recursively."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, when_true, when_false = value["Fn::If"]
        return branches(when_true) + branches(when_false)
    return [value]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def web_identity_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for role in resources_of(template, "AWS::IAM::Role").values():
        for statement in as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]):
            if "sts:AssumeRoleWithWebIdentity" in as_list(statement["Action"]):
                statements.append(statement)
    return statements


def trust_problems(template: dict[str, Any]) -> list[str]:
    statements = web_identity_statements(template)
    if not statements:
        return ["no statement allows sts:AssumeRoleWithWebIdentity"]
    problems = []
    for statement in statements:
        conditions = statement.get("Condition", {})
        if set(conditions) != {"StringEquals"}:
            problems.append(f"conditions must be StringEquals only, got {sorted(conditions)}")
        equals = conditions.get("StringEquals", {})
        if equals.get(f"{ISSUER}:aud") != "sts.amazonaws.com":
            problems.append(f"aud is {equals.get(f'{ISSUER}:aud')!r}, not sts.amazonaws.com")
        for sub in branches(equals.get(f"{ISSUER}:sub")):
            text = sub.get("Fn::Sub") if isinstance(sub, dict) else sub
            if not isinstance(text, str) or "*" in text or "?" in text:
                problems.append(f"sub {sub!r} is not an exact string")
            elif not EXACT_SUB.match(text):
                problems.append(f"sub {text!r} is not repo:ORG/REPO:environment|ref:refs/heads")
    return problems


def push_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    statements = [
        statement
        for role in resources_of(template, "AWS::IAM::Role").values()
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        if any("*" in action for action in actions):
            problems.append(f"wildcard action in {sorted(actions)}")
        if "*" in as_list(statement["Resource"]) and actions != {"ecr:GetAuthorizationToken"}:
            problems.append(f"Resource '*' for {sorted(actions - {'ecr:GetAuthorizationToken'})}")
    push = [s for s in statements if PUSH_ACTIONS & set(as_list(s["Action"]))]
    granted = set().union(*(set(as_list(s["Action"])) for s in push)) if push else set()
    if granted != PUSH_ACTIONS:
        problems.append(f"push actions are {sorted(granted)}")
    for statement in push:
        resources = as_list(statement["Resource"])
        if len(resources) != 1:
            problems.append(f"push statement names {len(resources)} resources")
        for arn in branches(resources[0]):
            if arn not in REPOSITORY_ARNS:
                problems.append(f"push resource {arn!r} is not the one repository")
    return problems


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def test_trust_policy_pins_audience_and_an_exact_subject(template: dict[str, Any]) -> None:
    assert trust_problems(template) == []


def test_subject_covers_the_environment_and_the_branch_forms(template: dict[str, Any]) -> None:
    (statement,) = web_identity_statements(template)
    subs = [s["Fn::Sub"] for s in branches(statement["Condition"]["StringEquals"][f"{ISSUER}:sub"])]
    assert subs == [
        "repo:${GitHubOrg}/${GitHubRepo}:environment:${Environment}",
        "repo:${GitHubOrg}/${GitHubRepo}:ref:refs/heads/${Branch}",
    ]


@pytest.mark.parametrize("name", ["GitHubOrg", "GitHubRepo", "Environment", "Branch"])
@pytest.mark.parametrize("value", ["*", "acme*", "ma?n", "a/*", "[ab]"])
def test_parameters_in_the_subject_reject_wildcards(
    template: dict[str, Any], name: str, value: str
) -> None:
    pattern = template["Parameters"][name]["AllowedPattern"]
    assert not re.fullmatch(pattern, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GitHubOrg", "acme-corp"),
        ("GitHubRepo", "nsshutdown"),
        ("Environment", "release"),
        ("Branch", "release/1.x"),
    ],
)
def test_parameters_accept_real_names(template: dict[str, Any], name: str, value: str) -> None:
    assert re.fullmatch(template["Parameters"][name]["AllowedPattern"], value)


def test_role_is_federated_with_the_github_provider(template: dict[str, Any]) -> None:
    (statement,) = web_identity_statements(template)
    assert branches(statement["Principal"]["Federated"]) == [
        {"Ref": "GitHubOidcProvider"},
        {"Ref": "ExistingOidcProviderArn"},
    ]
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateOidcProvider"
    assert provider["Properties"]["Url"] == f"https://{ISSUER}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert template["Conditions"]["CreateOidcProvider"] == {
        "Fn::Equals": [{"Ref": "ExistingOidcProviderArn"}, ""]
    }


def test_role_may_push_to_one_repository_only(template: dict[str, Any]) -> None:
    assert push_problems(template) == []


def test_the_only_star_resource_is_the_ecr_login(template: dict[str, Any]) -> None:
    (role,) = resources_of(template, "AWS::IAM::Role").values()
    stars = [
        statement["Action"]
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "*" in as_list(statement["Resource"])
    ]
    assert stars == ["ecr:GetAuthorizationToken"]


def test_repository_scans_on_push_and_keeps_tags_immutable(template: dict[str, Any]) -> None:
    repository = template["Resources"]["Repository"]
    assert repository["Condition"] == "CreateEcrRepository"
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert repository["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_role_arn_is_an_output(template: dict[str, Any]) -> None:
    assert template["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": ["ReleaseRole", "Arn"]}


def test_the_checks_catch_a_wildcard_subject_and_a_star_push() -> None:
    bad = load_template(BAD_TEMPLATE)
    trust = trust_problems(bad)
    assert any("StringEquals only" in p for p in trust)
    assert any("aud is None" in p for p in trust)
    assert any("is not an exact string" in p for p in trust)
    push = push_problems(bad)
    assert any("Resource '*' for ['ecr:InitiateLayerUpload', 'ecr:PutImage']" in p for p in push)
    assert any("push actions are" in p for p in push)
    assert any("is not the one repository" in p for p in push)
