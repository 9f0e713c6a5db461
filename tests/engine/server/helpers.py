"""What the team-mode server tests share: a studio switched to the team's database and bucket."""
from __future__ import annotations

from studio.engine.core import Studio


def team_studio(studio: Studio, postgres_url: str, s3: str, bucket: str) -> Studio:
    studio.settings.set("database.url", postgres_url)
    for key, value in (("server.database_url", postgres_url), ("server.s3_endpoint", s3),
                       ("server.s3_bucket", bucket), ("server.s3_access_key", "team")):
        studio.settings.set(key, value)
    studio.save_settings()
    studio.secrets.set("server.s3", "team-secret")
    return Studio.open(studio.paths.data_dir)
