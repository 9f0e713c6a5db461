"""installers/server: the compose recipe and its MinIO init script agree with the studio."""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import yaml

from studio.engine.storage.policy import workspace_policy

SERVER = Path(__file__).resolve().parents[3] / "installers" / "server"


def test_compose_brings_up_the_three_services_with_persistent_volumes() -> None:
    compose = yaml.safe_load((SERVER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "minio-init"} <= set(services)
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data"),
                        ("minio", "/data")):
        volume = next(v.split(":")[0] for v in services[name]["volumes"] if v.endswith(":" + mount))
        assert volume in compose["volumes"], name  # a named volume, not the container's layer
    assert services["redis"]["command"] == ["sh", "/init/redis-acl.sh", "serve"]
    assert "./redis-acl.sh:/init/redis-acl.sh:ro" in services["redis"]["volumes"]
    assert "--appendonly yes" in (SERVER / "redis-acl.sh").read_text()
    init = services["minio-init"]
    assert init["entrypoint"] == ["/bin/sh", "/init/minio-init.sh"]
    assert "./minio-init.sh:/init/minio-init.sh:ro" in init["volumes"]
    assert "BUCKET" in init["environment"] and "WORKSPACES" in init["environment"]
    example = (SERVER / "env.example").read_text()
    for variable in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "REDIS_WORKER_PASSWORD",
                     "REDIS_DESK_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert f"${{{variable}:?" in (SERVER / "compose.yaml").read_text()  # refused when unset
        assert f"{variable}=" in example


def test_the_init_script_installs_exactly_the_studio_s_workspace_policy() -> None:
    workspace = uuid.uuid4()
    printed = subprocess.run(["sh", str(SERVER / "minio-init.sh"), "policy", str(workspace)],
                             env={"BUCKET": "team-assets", "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True)
    assert json.loads(printed.stdout) == workspace_policy("team-assets", workspace)


def test_the_init_script_refuses_what_is_not_a_workspace_id() -> None:
    refused = subprocess.run(["sh", str(SERVER / "minio-init.sh"), "policy", "x; rm -rf /"],
                             check=False, capture_output=True, text=True)
    assert refused.returncode == 2 and "not a workspace id" in refused.stderr


def test_the_redis_users_file_holds_hashes_and_refuses_a_missing_password(tmp_path: Path) -> None:
    passwords = {"REDIS_PASSWORD": "admin-pw-1", "REDIS_WORKER_PASSWORD": "worker-pw-2",
                 "REDIS_DESK_PASSWORD": "desk-pw-3"}
    acl = tmp_path / "users.acl"
    subprocess.run(["sh", str(SERVER / "redis-acl.sh"), "write", str(acl)], check=True,
                   env={**passwords, "PATH": "/usr/bin:/bin"})
    text = acl.read_text()
    assert [line.split()[1] for line in text.splitlines()] == ["default", "worker", "desk"]
    assert not any(password in text for password in passwords.values())
    assert acl.stat().st_mode & 0o077 == 0
    del passwords["REDIS_DESK_PASSWORD"]
    refused = subprocess.run(["sh", str(SERVER / "redis-acl.sh"), "write", str(tmp_path / "b.acl")],
                             env={**passwords, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                             check=False)
    assert refused.returncode == 2 and "set REDIS_DESK_PASSWORD" in refused.stderr
