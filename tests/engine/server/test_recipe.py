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
    assert "--appendonly" in services["redis"]["command"]
    init = services["minio-init"]
    assert init["entrypoint"] == ["/bin/sh", "/init/minio-init.sh"]
    assert "./minio-init.sh:/init/minio-init.sh:ro" in init["volumes"]
    assert "BUCKET" in init["environment"] and "WORKSPACES" in init["environment"]
    example = (SERVER / "env.example").read_text()
    for variable in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD"):
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
