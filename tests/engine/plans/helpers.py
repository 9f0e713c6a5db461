"""A persona and valid plan answers, as a model would write them, for the plan tests; a job run here."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, Job
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.runner import JobRunner

TOPICS = ["morning coffee", "city run", "thrift haul", "rooftop sunset", "book corner",
          "rainy day outfit", "market finds"]


def make_mia(studio: Studio) -> Influencer:
    persona = Persona(name="Mia", trigger_word="mia_v", tone="warm, playful", style="streetwear",
                      voice="first person, short sentences", topics=["fashion", "coffee", "Berlin"],
                      language="de")
    return create_influencer(studio, studio.workspace().id, persona)


def item(day: date, index: int = 0, *, platform: str = "instagram", time: str = "18:30",
         prompt: str | None = None, tags: list[str] | None = None, motion: str = "") -> dict[str, Any]:
    topic = TOPICS[(day.toordinal() + index) % len(TOPICS)]
    return {"date": day.isoformat(), "time": time, "platform": platform, "topic": topic,
            "hook": f"Hook about {topic}", "caption": f"Ein Post über {topic}.",
            "hashtags": tags if tags is not None else ["#berlin", "streetstyle"],
            "image_prompt": prompt if prompt is not None else f"mia_v, {topic}, golden hour, 35mm",
            "video_motion_prompt": motion, "subtitle_text": f"{topic}!"}


def plan_answer(start: date, days: int, **options: Any) -> dict[str, Any]:
    return {"items": [item(start + timedelta(days=i), **options) for i in range(days)]}


def run(studio: Studio, job: Job) -> Job:
    """Runs the job here through the real runner, as a worker would, and reads it back."""
    JobRunner(studio.db, studio.paths, studio.settings, worker_id="test")(str(job.id))
    return studio.jobs.get(job.workspace_id, job.id)
