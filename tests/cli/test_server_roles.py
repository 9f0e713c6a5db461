"""A desk on a workspace's own database role and S3 key: ``server connect --workspace``, ``server
open``, and the workspace verbs that stay the team admin's. Real PostgreSQL (passwords checked),
Redis, and the S3 stand-in checking IAM policies."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.storage.policy import workspace_policy
from tests.cli.conftest import cli_here
from tests.servers import enable_moto_auth

BUCKET = "studio"
ROLE_PASSWORD = "desk-password-" + uuid.uuid4().hex[:8]


@dataclass(frozen=True, slots=True)
class Team:
    s3: str
    redis: str
    role_url: str  # Alpha's workspace role, with its password
    alpha_keys: tuple[str, str]  # an S3 user allowed Alpha's prefixes only


def _iam(endpoint: str, keys: tuple[str, str]):  # type: ignore[no-untyped-def]
    return boto3.client("iam", endpoint_url=endpoint, aws_access_key_id=keys[0],
                        aws_secret_access_key=keys[1], region_name="us-east-1")


def _user(iam, name: str, policy: dict[str, object]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _connect(data_dir: Path, database: str, redis: str, s3: str, keys: tuple[str, str],
             *extra: str) -> str:
    done = cli_here(data_dir, "server", "connect", "--database", database, "--redis", redis,
                   "--s3-endpoint", s3, "--bucket", BUCKET, "--access-key", keys[0], *extra,
                   input=keys[1] + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def team(tmp_path: Path, postgres_url: str, redis_url: str, s3_auth_server: str) -> Team:
    """A team studio on the server with workspaces Alpha (Mia in it) and Beta, Alpha's database
    role granted and an S3 user limited to Alpha's prefixes."""
    endpoint = s3_auth_server
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    admin = _user(_iam(endpoint, ("setup", "setup")), "team", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    enable_moto_auth(endpoint)
    data = tmp_path / "team"
    _connect(data, postgres_url, redis_url, endpoint, admin)
    for name in ("Alpha", "Beta"):
        assert cli_here(data, "workspace", "create", name).returncode == 0
    studio = Studio.open(data)
    try:
        alpha = studio.workspace("Alpha").id
        with studio.db.session() as session:
            Repository(session, alpha).add(Influencer(name="Mia"))
    finally:
        studio.close()
    granted = cli_here(data, "server", "grant", "--workspace", "Alpha", input=ROLE_PASSWORD + "\n")
    assert granted.returncode == 0, granted.stderr
    role_url = granted.stdout.split("--database ", 1)[1].strip().replace("@", f":{ROLE_PASSWORD}@", 1)
    keys = _user(_iam(endpoint, admin), "alpha", workspace_policy(BUCKET, alpha))
    return Team(s3=endpoint, redis=redis_url, role_url=role_url, alpha_keys=keys)


def test_a_desk_connects_with_its_workspace_keys_and_opens_the_server_workspace(
        tmp_path: Path, team: Team) -> None:
    desk = tmp_path / "desk"
    out = _connect(desk, team.role_url, team.redis, team.s3, team.alpha_keys, "--keep-local",
                   "--workspace", "Alpha")
    assert any(line.startswith("ok") and "workspace's prefix" in line for line in out.splitlines())
    listed = cli_here(desk, "server", "workspaces", "--json")
    assert [w["name"] for w in json.loads(listed.stdout)] == ["Alpha"]  # Beta stays unseen
    opened = cli_here(desk, "server", "open", "Alpha")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert "Mia" in cli_here(desk, "influencer", "list", "--workspace", "Alpha").stdout
    checked = cli_here(desk, "server", "check")
    assert checked.returncode == 0, checked.stdout


def test_a_desk_on_a_workspace_role_gets_plain_refusals_that_reveal_no_other_workspace(
        tmp_path: Path, team: Team) -> None:
    desk = tmp_path / "desk"
    other = cli_here(desk, "server", "connect", "--database", team.role_url, "--redis", team.redis,
                    "--s3-endpoint", team.s3, "--bucket", BUCKET, "--access-key", team.alpha_keys[0],
                    "--workspace", "Beta", input=team.alpha_keys[1] + "\n")
    assert other.returncode == 1 and other.stderr.strip() == (
        "error: No workspace named 'Beta' on the server or in this studio.")
    _connect(desk, team.role_url, team.redis, team.s3, team.alpha_keys)  # its one workspace, found
    assert cli_here(desk, "workspace", "list").stdout.count("Alpha") == 1
    made = cli_here(desk, "workspace", "create", "Gamma")
    assert made.returncode == 2 and len(made.stderr.splitlines()) == 1 and "team admin" in made.stderr
    taken = cli_here(desk, "workspace", "rename", "Alpha", "Beta")
    free = cli_here(desk, "workspace", "rename", "Alpha", "Delta")
    assert taken.returncode == free.returncode == 2 and taken.stderr == free.stderr
    assert "SQL" not in taken.stderr and "Beta" not in taken.stderr
