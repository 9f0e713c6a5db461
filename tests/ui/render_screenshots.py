"""Renders every page offscreen with real data made through the engine.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.ui.render_screenshots [OUT_DIR] \
        [--size 1280x720] [--theme light|dark|both]

OUT_DIR defaults to docs/screenshots. Files are named as there: <page>.png and <page>-dark.png
at 1280×720, <page>-<W>x<H>[-dark].png at other sizes (generate-1920x1080-dark.png).

Not a test: a script for the README's pictures. It starts a real worker so the thumbnail jobs
and the status bar are real, and stops it at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.engine.core import Studio
from studio.engine.influencers import Persona, create_influencer, set_avatar
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.ui import tasks
from studio.ui.app import application
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.health import gather
from studio.ui.main_window import PAGES, MainWindow
from studio.ui.pages.influencers import InfluencersPage
from studio.ui.theme import apply_theme
from studio.ui.worker_control import WorkerSupervisor
from tests.ui.helpers import make_images, make_portrait

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZE = (1280, 720)  # the smallest window the studio is laid out for

PEOPLE = (
    (Persona(name="Mira Sol", trigger_word="mira_v1", tone="warm, curious, a little wry",
             style="film look, golden hour, natural skin", voice="first person, short sentences",
             topics=["travel", "street food", "film photography"], language="en",
             notes="Based in Lisbon. Never posts before 9 am."), (214, 140, 120)),
    (Persona(name="Kai Nakamura", trigger_word="kai_nk", tone="calm, precise",
             style="clean studio light, muted colours", voice="explains, then jokes",
             topics=["minimal tech", "coffee", "running"], language="en"), (120, 150, 200)),
)


def settle(app: QApplication, *, at_least_s: float = 0.3, timeout_s: float = 20.0) -> None:
    """Lets background loads land before a picture is taken."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        app.processEvents()
        if time.monotonic() - start >= at_least_s and tasks.in_flight() == 0:
            break
        time.sleep(0.02)
    app.processEvents()


def seed(studio: Studio, scratch: Path) -> list:
    workspace = studio.workspace("Aurora Creators", create=True)
    studio.workspace("Personal", create=True)
    studio.use_workspace(workspace.name)
    jobs = []
    for persona, color in PEOPLE:
        created = create_influencer(studio, workspace.id, persona)
        portrait = make_portrait(scratch / f"{persona.trigger_word}.png", color)
        jobs.append(set_avatar(studio, workspace.id, created.id, portrait))
    pictures = make_images(scratch / "shoot", 12, size=900)
    jobs.append(studio.jobs.submit(workspace.id, "make-thumbnails",
                                   ThumbnailPayload(files=tuple(map(Path, pictures))), title="Beach shoot thumbnails"))
    jobs.append(studio.jobs.submit(workspace.id, "make-thumbnails",
                                   ThumbnailPayload(files=(scratch / "moved-away.jpg",)),
                                   title="Old import thumbnails"))
    return jobs


def seed_plans(studio: Studio) -> None:
    """A week of Kai's posts around today in every status, as a generated plan leaves them."""
    from datetime import date, datetime, time, timedelta

    from studio.engine.db.models import ContentPlan, PlanItem
    from studio.engine.db.repositories import Repository
    from studio.engine.influencers import get_influencer
    workspace = studio.workspace()
    kai = get_influencer(studio, workspace.id, "Kai Nakamura")  # first in the page's list
    monday = date.today() - timedelta(days=date.today().weekday())
    posts = [(0, 7, "ready", "Pour-over at 6 am"), (1, 18, "ready", "Desk setup, one cable"),
             (2, 7, "failed", "Sunrise 10k"), (3, 10, "producing", "Quiet keyboard review"),
             (3, 19, "approved", "Grinder shootout"), (4, 12, "draft", "Rest day stretch"),
             (5, 9, "draft", "Rain run"), (6, 17, "draft", "A week in three pictures")]
    with studio.db.session() as session:
        repo = Repository(session, workspace.id)
        plan = repo.add(ContentPlan(influencer_id=kai.id, name="This week", start_date=monday,
                                    end_date=monday + timedelta(days=6)))
        for day, hour, status, topic in posts:
            when = datetime.combine(monday + timedelta(days=day), time(hour)).astimezone()
            repo.add(PlanItem(plan_id=plan.id, scheduled_at=when, platform="instagram", topic=topic,
                              hook=f"{topic}, in one breath", caption=f"{topic}. Less, but better.",
                              hashtags=["#minimal", "#coffee"], status=status,
                              image_prompt=f"kai_nk, {topic.lower()}, clean studio light"))


def seed_dataset(studio: Studio, scratch: Path) -> None:
    """A dataset of Mira: generated portraits and noise shots plus a real photo of a face,
    imported and analysed through the engine, some of it captioned."""
    import numpy as np
    from PIL import Image
    from skimage import data as skdata

    from studio.engine.datasets.analysis import analyze_dataset
    from studio.engine.datasets.captions import set_caption
    from studio.engine.datasets.importer import import_paths
    from studio.engine.datasets.service import create_dataset, list_images
    from studio.engine.influencers import get_influencer

    workspace = studio.workspace()
    mira = get_influencer(studio, workspace.id, "Mira Sol")
    dataset = create_dataset(studio, workspace.id, mira.id, "Lisbon shoot", class_token="woman")
    folder = scratch / "lisbon"
    folder.mkdir(parents=True)
    astronaut = Image.fromarray(skdata.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    astronaut.save(folder / "astronaut.jpg", quality=92)
    extra = her_and_others(folder)  # her face kept, someone else and a group to be flagged
    rng = np.random.default_rng(5)
    for index in range(10):
        colour = tuple(int(c) for c in rng.integers(60, 230, 3))
        make_portrait(folder / f"portrait-{index:02d}.png", colour)  # type: ignore[arg-type]
    make_images(folder, 20, size=640, prefix="street")
    report = import_paths(studio, dataset, sorted(folder.iterdir()))
    assert report.imported == 31 + extra, report.to_dict()
    analyze_dataset(studio, dataset)
    from studio.engine.identity.references import add_file_reference
    add_file_reference(studio, mira.id, folder / "astronaut.jpg")  # her face, chosen
    captions = {"astronaut.jpg": "mira_v1, woman, spacesuit, american flag, smiling, studio portrait",
                "portrait-00.png": "mira_v1, woman, simple background, smiling",
                "portrait-01.png": "mira_v1, woman, simple background"}
    for image in list_images(studio, dataset):
        if image.original_name in captions:
            set_caption(studio, dataset, image.id, captions[image.original_name])


def her_and_others(folder: Path) -> int:
    """Pictures of her (the astronaut mirrored, darker) and of other people (tests/photos.py),
    so the identity filters and the summary have something to show. Returns how many."""
    from PIL import ImageEnhance, ImageOps

    from tests.photos import group, photo_image
    her = photo_image("astronaut").resize((1024, 1024))
    ImageOps.mirror(her).save(folder / "astronaut-mirrored.jpg", quality=92)
    ImageEnhance.Brightness(her).enhance(0.7).save(folder / "astronaut-evening.jpg", quality=92)
    photo_image("hopper").save(folder / "someone-else.jpg", quality=92)
    group().save(folder / "with-friends.jpg", quality=92)
    return 4


def training_samples(scratch: Path) -> None:
    """The fake sd-scripts' samples: other people at step 40, her at 80 and 120, so the chart's
    identity line rises and a checkpoint is suggested."""
    import json

    from PIL import ImageOps

    from tests.photos import photo_image
    folder = scratch / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    pictures = {"hopper": photo_image("hopper"), "luis": photo_image("luis"),
                "her": ImageOps.mirror(photo_image("astronaut")), "her2": photo_image("astronaut")}
    for name, image in pictures.items():
        image.save(folder / f"{name}.png")
    chosen = {"40": ["hopper", "luis"], "80": ["her", "hopper"], "120": ["her", "her2"]}
    listing = folder / "samples.json"
    listing.write_text(json.dumps({step: [str(folder / f"{n}.png") for n in names]
                                   for step, names in chosen.items()}))
    os.environ["FAKE_SD_SCRIPTS_SAMPLE_PICTURES"] = str(listing)  # read by the worker it starts


def seed_training(studio: Studio, scratch: Path) -> list:
    """A short finished training of Mira's dataset through the fake sd-scripts (checkpoints,
    samples and a loss curve for the Training page)."""
    from studio.engine.datasets.service import get_dataset
    from studio.engine.influencers import get_influencer
    from studio.engine.training.jobs import submit_training
    from studio.engine.training.plan import TrainingRequest
    from tests.engine.training.helpers import FAKE_SD_SCRIPTS, use_this_python

    use_this_python(studio)
    training_samples(scratch)
    workspace = studio.workspace()
    mira = get_influencer(studio, workspace.id, "Mira Sol")
    dataset = get_dataset(studio, workspace.id, "Lisbon shoot", influencer_ref=mira.id)
    base = scratch / "models" / "v1-5-pruned-emaonly.safetensors"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_bytes((8).to_bytes(8, "little") + b"{}      ")  # safetensors with no tensors
    job = submit_training(studio, workspace.id, TrainingRequest(
        influencer_id=mira.id, dataset_id=dataset.id, preset="sd15-fast-test",
        sd_scripts=str(FAKE_SD_SCRIPTS),
        overrides={"base_model": str(base), "max_train_steps": 120, "save_every_n_steps": 40,
                   "sample_every_n_steps": 40}))
    return [job]


def show_video(window: MainWindow, app: QApplication, scratch: Path) -> None:
    """A clip made with FFmpeg's test sources, opened in the player and framed per platform."""
    import subprocess

    from studio.engine.media.ffmpeg import locate

    exe, _ = locate(window.context.studio.settings)
    scratch.mkdir(parents=True, exist_ok=True)
    clip = scratch / "rooftop.mp4"
    if not clip.exists():
        subprocess.run([str(exe), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=330", "-t", "4", "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)], check=True)
    page = window.pages["video"]
    page.open_clip(clip)  # type: ignore[attr-defined]
    settle(app, at_least_s=2.0)


def show_dataset(window: MainWindow, app: QApplication) -> None:
    """The Datasets page with the real photo selected: crop, face box and caption show."""
    from studio.ui import thumbnails
    from studio.ui.pages.datasets import DatasetsPage
    page = window.pages["datasets"]
    assert isinstance(page, DatasetsPage)
    page.influencer_box.setCurrentIndex(page.influencer_box.findText("Mira Sol"))
    page.influencer_box.activated.emit(page.influencer_box.currentIndex())
    deadline = time.monotonic() + 20
    while page.model.rowCount() == 0 and time.monotonic() < deadline:
        settle(app)
    for position in range(page.model.rowCount()):
        row = page.model.row_at(position)
        if row is not None and row.name == "astronaut.jpg":
            page.select_position(position)
    while (page.pane.canvas.image is None or page.thumbnails.pending()) and time.monotonic() < deadline:
        settle(app, at_least_s=0.05)
    thumbnails.wait_until_idle()
    settle(app)


class _PortraitFake:
    """The fake ComfyUI, painting portraits instead of flat swatches so the pictures read."""

    def __init__(self) -> None:
        import tests.fakes.comfyui_server as server
        from tests.fakes.comfyui_server import FakeComfyUI
        from tests.ui.helpers import CHECKPOINTS, LORAS
        self._server, self._plain = server, server.png_bytes
        server.png_bytes = self._portrait
        self.fake = FakeComfyUI(checkpoints=CHECKPOINTS, loras=LORAS)

    def _portrait(self, width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 60, 90)) -> bytes:
        import io
        if width < 8:  # the preview frames stay tiny, as ComfyUI's are cheap
            return self._plain(width, height, color)
        scratch = Path(tempfile.mkdtemp())
        image = make_portrait(scratch / "p.png", (color[0], 110 + color[0] // 4, 150))
        from PIL import Image
        buffer = io.BytesIO()
        Image.open(image).convert("RGB").resize((512, 640)).save(buffer, format="PNG")
        return buffer.getvalue()

    def close(self) -> None:
        self.fake.close()
        self._server.png_bytes = self._plain


def seed_generations(studio: Studio, comfy: _PortraitFake) -> None:
    """Three finished generate-image jobs for Mira, made through the fake ComfyUI in-process:
    two of her (the astronaut), one of someone else, each scored against her references."""
    from tests.engine.comfyui.identity_helpers import by_seed
    comfy.fake.picture_for = by_seed({1201: "astronaut", 1202: "astronaut", 1203: "hopper"})
    from studio.engine.comfyui.gallery import set_favourite, set_rating
    from studio.engine.comfyui.generation import GenerationRequest, submit_generation
    from studio.engine.influencers import get_influencer
    from studio.engine.jobs.runner import JobRunner

    workspace = studio.workspace()
    mira = get_influencer(studio, workspace.id, "Mira Sol")
    studio.queues.set_runner(JobRunner(studio.db, studio.paths, studio.settings, "screens"))
    huey = studio.queues.hueys["generation"]
    for seed, prompt in ((1201, "golden hour on a Lisbon rooftop"), (1202, "street food market, candid"),
                         (1203, "film photo, tram 28, smiling")):
        request = GenerationRequest(influencer_id=mira.id, template="txt2img-sd15-lora",
                                    values={"positive": f"mira_v1, {prompt}", "seed": seed,
                                            "lora_name": "mira_v1.safetensors", "steps": 20})
        submit_generation(studio, workspace.id, request)
        huey.execute(huey.dequeue())
    from studio.engine.comfyui.gallery import list_generated
    images = list_generated(studio, workspace.id)
    set_rating(studio, workspace.id, images[0].id, 4)
    set_favourite(studio, workspace.id, images[0].id, True)


def show_generate(window: MainWindow, app: QApplication, out: Path, suffix: str) -> None:
    """The Generate tab after a run (results strip, final picture), then the Gallery tab."""
    from studio.ui import thumbnails
    from studio.ui.pages.generate import GeneratePage
    page = window.pages["generate"]
    assert isinstance(page, GeneratePage)
    deadline = time.monotonic() + 20
    while (page.current_template() is None or len(page.form.options("sampler")) < 2) and (
            time.monotonic() < deadline):
        settle(app, at_least_s=0.05)
    page.influencer_box.setCurrentIndex(page.influencer_box.findText("Mira Sol"))
    page.influencer_box.activated.emit(page.influencer_box.currentIndex())
    studio = page.context.studio
    jobs = [j.id for j in studio.jobs.list(page.context.workspace_id) if j.type == "generate-image"]
    page.watcher.watch(jobs)
    while (page.results.rowCount() < len(jobs) or page.panel.preview.image is None) and (
            time.monotonic() < deadline):
        settle(app, at_least_s=0.05)
    thumbnails.wait_until_idle()
    settle(app)
    window.grab().save(str(out / f"generate{suffix}.png"))
    page.tabs.setCurrentWidget(page.gallery)
    while page.gallery.model.rowCount() < len(jobs) and time.monotonic() < deadline:
        settle(app, at_least_s=0.05)
    page.gallery.select_position(0)
    while page.gallery.viewer.canvas.image is None and time.monotonic() < deadline:
        settle(app, at_least_s=0.05)
    thumbnails.wait_until_idle()
    settle(app)
    window.grab().save(str(out / f"generate-gallery{suffix}.png"))
    page.tabs.setCurrentIndex(0)


def show_plan_posts(window: MainWindow, app: QApplication, out: Path, suffix: str) -> None:
    """The Plans page's list of posts with the failed one chosen: the editor and its steps."""
    from studio.ui.pages.plans import PlansPage
    page = window.pages["plans"]
    assert isinstance(page, PlansPage)
    page.views.setCurrentWidget(page.table)
    failed = next((row for row, post in enumerate(page.table.posts) if post.status == "failed"), 0)
    page.table.selectRow(failed)
    settle(app)
    window.grab().save(str(out / f"plans-posts{suffix}.png"))
    page.views.setCurrentIndex(0)


def show_automation(window: MainWindow, app: QApplication, out: Path, suffix: str) -> None:
    """Preferences → Automation: the local API, publishing accounts and webhooks."""
    from studio.ui.pages.settings import SettingsPage
    page = window.pages["settings"]
    assert isinstance(page, SettingsPage)
    page.group_list.setCurrentRow(page.group_list.row(page.group_list.findItems("Automation",
                                                                                 Qt.MatchFlag.MatchExactly)[0]))
    settle(app)
    window.grab().save(str(out / f"settings-automation{suffix}.png"))
    page.group_list.setCurrentRow(0)


def wait_for(studio: Studio, jobs: list) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(studio.jobs.get(j.workspace_id, j.id).status in ("completed", "failed") for j in jobs):
            return
        time.sleep(0.2)
    raise SystemExit("the seed jobs did not finish in 2 minutes")


def render(window: MainWindow, app: QApplication, out: Path, *, suffix: str = "") -> None:
    for key, _ in PAGES:
        window.show_page(key)
        settle(app)
        if key == "datasets":
            show_dataset(window, app)
        if key == "generate":
            show_generate(window, app, out, suffix)
            continue
        if key == "video":
            show_video(window, app, Path(tempfile.gettempdir()) / "influencerai-screenshots")
        window.grab().save(str(out / f"{key}{suffix}.png"))
        if key == "plans":
            show_plan_posts(window, app, out, suffix)
        if key == "settings":
            show_automation(window, app, out, suffix)
    window.show_page("influencers")
    page = window.pages["influencers"]
    assert isinstance(page, InfluencersPage)
    page.list.setCurrentIndex(page.model.index(0))
    settle(app)
    window.grab().save(str(out / f"main-window{suffix}.png"))


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}") from None


def main(out: Path, size: tuple[int, int], themes: tuple[str, ...]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        studio = Studio.open(Path(tmp) / "data")
        supervisor = WorkerSupervisor(studio.paths)
        comfy = _PortraitFake()
        try:
            studio.settings.comfyui.url = comfy.fake.base_url
            studio.save_settings()
            jobs = seed(studio, Path(tmp) / "scratch")
            seed_dataset(studio, Path(tmp) / "scratch")
            seed_plans(studio)
            seed_generations(studio, comfy)
            os.environ.setdefault("FAKE_SD_SCRIPTS_STEP_S", "0.01")
            jobs += seed_training(studio, Path(tmp) / "scratch")
            supervisor.ensure_running()
            wait_for(studio, jobs)
            for theme in themes:
                # docs/screenshots' names: the default size plain, other sizes named.
                named = "" if size == DEFAULT_SIZE else f"-{size[0]}x{size[1]}"
                suffix = named + ("-dark" if theme == "dark" else "")
                apply_theme(app, theme)
                context = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
                window = MainWindow(context)
                window.resize(*size)
                window.show()
                window.health.show_all(gather(studio))
                render(window, app, out, suffix=suffix)
                window.close()
                window.deleteLater()
                settle(app)
        finally:
            comfy.close()
            supervisor.stop()
            tasks.wait_until_idle()
            studio.close()
    print(f"screenshots written to {out}")
    return 0


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Render every page to PNG files.")
    parser.add_argument("out", type=Path, nargs="?", default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", type=parse_size, default=DEFAULT_SIZE, help="window size, e.g. 1920x1080")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    args = parser.parse_args(argv)
    themes = ("light", "dark") if args.theme == "both" else (args.theme,)
    return main(args.out, args.size, themes)


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
