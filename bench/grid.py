"""Grid benchmark: the Datasets page's image grid at 10,000 and 100,000 rows.

    .venv/bin/python bench/grid.py                    # 10,000 and 100,000 rows
    .venv/bin/python bench/grid.py --rows 10000 --why # one size; where the UI thread was when late

Each size runs in a fresh process (so that peak RSS is its own): the studio's page, opening a
dataset of N rows inserted straight into SQLite, each row with its own content hash whose cached
thumbnails are hard links to a small set of distinct pictures; and, as the same-run baseline, a
bare QListView in icon mode over a QStringListModel of N strings. Figures: time from building the
page to the first screen fully painted with pictures, the longest UI-thread stalls (a 5 ms
precise timer's lateness) while building (the page's first step, then its later stages, one per
event-loop turn: studio.ui.staged) and opening, until the first screen, and while scrolling a
page per 60 ms, and peak RSS. It also prints each later stage's time and what application()
took once before any window (PySide making Qt's widget types included, studio.ui.qt_types).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TICK_MS = 5
SCROLL_S = 4.0
DISTINCT = 48
SIZE = (1180, 720)
TARGETS = {10_000: 0.3, 100_000: 0.5}  # first screen, seconds
STALL_MS = 16.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The meter ---------------------------------------------------------------------------------------

class Meter:
    """The longest lateness of a 5 ms precise timer on the UI thread, per phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer
        self.clock = QElapsedTimer()
        self.timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.worst = 0.0
        self.last = 0
        self.running = False

    def start(self) -> None:
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.running = True
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.worst = max(self.worst, (now - self.last) / 1e6 - TICK_MS)
        self.last = now

    def phase(self) -> float:
        """The worst lateness since the last phase, counting the time since the last tick."""
        self._tick()
        worst, self.worst = self.worst, 0.0
        return max(worst, 0.0)

    def seconds(self) -> float:
        return self.clock.nsecsElapsed() / 1e9


class Witness:
    """With --why: a thread that records the UI thread's stack when it is late."""

    def __init__(self, meter: Meter, late_ms: float = STALL_MS) -> None:
        import threading
        self.meter, self.late_ms = meter, late_ms
        self.seen: dict[str, int] = {}
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        import gc
        self.collections: dict[str, float] = {}  # collections over 5 ms: the longest, by kind
        self._gc_began = 0.0
        gc.callbacks.append(self._on_gc)

    def _watch(self) -> None:
        import threading
        import traceback
        reported: dict[float, int] = {}  # by threshold: the tick last reported
        while True:
            time.sleep(0.004)
            last = self.meter.last
            late = (self.meter.clock.nsecsElapsed() - last) / 1e6
            for threshold in (self.late_ms, 100.0):
                if self.meter.running and late > threshold and reported.get(threshold) != last:
                    reported[threshold] = last
                    frames = sys._current_frames()
                    frame = frames.get(self._main or 0)
                    if frame is not None:
                        stack = f"(over {threshold:.0f} ms)\n" + "".join(traceback.format_stack(frame)[-7:])
                        if threshold > self.late_ms:  # and what the other threads were doing
                            stack += "".join(f"  [thread] {traceback.format_stack(other)[-1]}"
                                             for ident, other in frames.items()
                                             if ident not in (self._main, threading.get_ident()))
                        self.seen[stack] = self.seen.get(stack, 0) + 1

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        import threading
        if phase == "start":
            self._gc_began = time.perf_counter()
            return
        took = (time.perf_counter() - self._gc_began) * 1000
        if took > 5 and self.meter.running:  # the set-up's own collections are not the page's
            key = f"gen {info['generation']} on {threading.current_thread().name}"
            self.collections[key] = max(self.collections.get(key, 0.0), took)

    def report(self) -> None:
        for key, took in sorted(self.collections.items()):
            print(f"--- garbage collection {key}: longest {took:.0f} ms", file=sys.stderr)
        for stack, count in sorted(self.seen.items(), key=lambda item: -item[1])[:8]:
            print(f"--- late {count}× at:\n{stack}", file=sys.stderr)


def warm_up(app) -> None:
    """One-off costs of a first window (fonts, style) are paid before the clock starts, by both,
    and the setup's garbage is collected (its rows would trigger a full collection later)."""
    import gc

    from PySide6.QtWidgets import QLabel
    gc.collect()
    label = QLabel("warm")
    label.show()
    pump(app, 0.05)
    label.close()


def pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def scroll(app, view) -> float:
    """A page per 60 ms for SCROLL_S seconds, as a user flicking through."""
    bar = view.verticalScrollBar()
    end = time.perf_counter() + SCROLL_S
    while time.perf_counter() < end:
        bar.setValue(min(bar.value() + bar.pageStep(), bar.maximum()))
        pump(app, 0.06)
    return bar.value() / max(bar.maximum(), 1)


def visible_rows(view, count: int) -> set[int]:
    """Rows whose cells are on screen: from the top-left cell on, until past the bottom."""
    from PySide6.QtCore import QPoint
    rows: set[int] = set()
    viewport = view.viewport().rect()
    first = view.indexAt(QPoint(6, 6))
    if not first.isValid():
        return rows
    model = view.model()
    for row in range(first.row(), count):
        cell = view.visualRect(model.index(row))
        if cell.top() > viewport.bottom():
            break
        if cell.intersects(viewport):
            rows.add(row)
    return rows


# The studio's side -------------------------------------------------------------------------------

def make_thumbnails(cache_dir: Path, distinct: int) -> list[str]:
    """``distinct`` pictures of varied shape in the engine's thumbnail cache, 128 and 256."""
    from PIL import Image, ImageDraw

    from studio.engine.media.thumbnails import shrunk, thumbnail_bytes, thumbnail_path
    shas = []
    for i in range(distinct):
        sha = f"f{i:07x}" + uuid.uuid4().hex + uuid.uuid4().hex[:24]  # no row shares it
        width, height = (256, 192 + (i * 16) % 96) if i % 2 else (160 + (i * 12) % 96, 256)
        picture = Image.new("RGB", (width, height), ((i * 40) % 256, (i * 90) % 256, (i * 150) % 256))
        ImageDraw.Draw(picture).ellipse((width // 4, height // 4, width * 3 // 4, height * 3 // 4),
                                        fill=((i * 70) % 256, 200, 255 - (i * 30) % 256))
        grain = Image.effect_noise((width, height), 24).convert("RGB")  # a photo's detail
        picture = Image.blend(picture, grain, 0.25)
        for size in (128, 256):
            path = thumbnail_path(cache_dir, sha, size)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(thumbnail_bytes(shrunk(picture, size)))  # as an import writes them
        shas.append(sha)
    return shas


def insert_rows(studio, dataset, shas: list[str], n: int) -> None:
    """``n`` rows straight into the database (as bench/datasets.py does): each row its own hash
    whose cached thumbnails are hard links to the distinct ones, cycled."""
    from sqlalchemy import insert

    from studio.engine.db.models import DatasetImage
    from studio.engine.db.types import utcnow
    from studio.engine.media.thumbnails import thumbnail_path
    now, cache = utcnow(), studio.paths.cache_dir
    fake = [f"{i:08x}" + shas[i % len(shas)][8:] for i in range(n)]
    for i, sha in enumerate(fake):
        for size in (128, 256):
            target = thumbnail_path(cache, sha, size)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(thumbnail_path(cache, shas[i % len(shas)], size), target)
    with studio.db.session() as session:
        for chunk in range(0, n, 5000):
            rows = [{"id": uuid.uuid4(), "workspace_id": dataset.workspace_id, "dataset_id": dataset.id,
                     "storage_key": f"datasets/bench/{i:06d}.jpg", "original_name": f"grid-{i:06d}.jpg",
                     "source_name": f"grid-{i:06d}.jpg", "sha256": fake[i], "width": 3000,
                     "height": 4000, "quality": {}, "faces": [], "tags": [], "caption": "",
                     "created_at": now, "updated_at": now, "version": 1}
                    for i in range(chunk, min(chunk + 5000, n))]
            session.execute(insert(DatasetImage), rows)


def prepare_studio(root: Path, n: int, distinct: int):
    from studio.engine.core import Studio
    from studio.engine.datasets.service import create_dataset
    from studio.engine.influencers import Persona, create_influencer
    studio = Studio.open(root / "data")
    workspace = studio.workspace()
    shas = make_thumbnails(studio.paths.cache_dir, distinct)
    owner = create_influencer(studio, workspace.id, Persona(name="Aa Grid", trigger_word="grid_v1"))
    dataset = create_dataset(studio, workspace.id, owner.id, "Grid")
    insert_rows(studio, dataset, shas, n)
    return studio


def painted_recorder() -> set[int]:
    """Rows painted with their picture (the delegate's paint, wrapped)."""
    from PySide6.QtGui import QImage, QPixmap

    from studio.ui.widgets.thumbnail_grid import ThumbnailDelegate
    painted: set[int] = set()
    real_paint = ThumbnailDelegate.paint

    def paint(self, painter, option, index):
        real_paint(self, painter, option, index)
        if isinstance(index.data(1), (QImage, QPixmap)):  # DecorationRole
            painted.add(index.row())

    ThumbnailDelegate.paint = paint  # type: ignore[method-assign]
    return painted


def wait_first_screen(app, page, painted: set[int], meter: Meter) -> float:
    """Seconds to the first screen: every cell on screen painted with its picture (the rest of
    the rows may still be on their way)."""
    deadline, checked = time.perf_counter() + 60, 0
    while time.perf_counter() < deadline:
        app.processEvents()
        count = page.model.rowCount()
        if count and painted:
            checked += 1
            if checked % 5 == 1:
                wanted = visible_rows(page.grid, count)
                if wanted and wanted <= painted:
                    return meter.seconds()
        time.sleep(0.001)
    return float("nan")


def wait_built(app, page) -> None:
    """Until the page's later stages (studio.ui.staged) have run, one per event-loop turn."""
    deadline = time.perf_counter() + 10
    while not page.stages.done and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)


def wait_all_rows(app, page, n: int, meter: Meter) -> float:
    deadline = time.perf_counter() + 120
    while page.model.rowCount() < n and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    return meter.seconds() if page.model.rowCount() == n else float("nan")


def run_studio(n: int, distinct: int, why: bool) -> dict[str, float]:
    from studio.ui import tasks, thumbnails
    from studio.ui.app import application
    from studio.ui.context import StudioContext, WorkspaceRef
    from studio.ui.pages.datasets import DatasetsPage
    began = time.perf_counter()
    app = application()  # as the app makes it: its cycle collector, interpreter settings, Qt's types
    app_ms = (time.perf_counter() - began) * 1000
    with tempfile.TemporaryDirectory(prefix="bench-grid-") as tmp:
        studio = prepare_studio(Path(tmp), n, distinct)
        rss_before = peak_rss_mb()
        painted = painted_recorder()
        meter = Meter()
        witness = Witness(meter) if why else None
        warm_up(app)
        context = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
        meter.start()
        page = DatasetsPage(context)
        page.resize(*SIZE)
        page.show()
        build_stall = meter.phase()
        wait_built(app, page)
        rest_stall = meter.phase()
        first_screen = wait_first_screen(app, page, painted, meter)
        screen_stall = meter.phase()
        screen_rows = len(visible_rows(page.grid, page.model.rowCount()))
        all_in = wait_all_rows(app, page, n, meter)
        open_stall = meter.phase()
        reached = scroll(app, page.grid)
        scroll_stall = meter.phase()
        meter.running = False
        if witness:
            witness.report()
        decoded = page.thumbnails.decoded_count
        page.close()
        thumbnails.drop_queued()
        thumbnails.wait_until_idle()
        tasks.wait_until_idle()
        studio.close()
    stages = {f"stage {name}": took for name, took in page.stages.took_ms.items()}
    return {"first_screen_s": first_screen, "all_rows_s": all_in, "build_stall_ms": build_stall,
            "rest_stall_ms": rest_stall, "application_ms": app_ms, **stages, "open_stall_ms": open_stall,
            "screen_stall_ms": screen_stall, "scroll_stall_ms": scroll_stall, "screen_rows": screen_rows,
            "decoded": decoded, "scrolled": reached, "rss_before_mb": rss_before, "peak_rss_mb": peak_rss_mb()}


# The baseline: a bare QListView --------------------------------------------------------------------

def run_baseline(n: int) -> dict[str, float]:
    from PySide6.QtCore import QStringListModel
    from PySide6.QtWidgets import QApplication, QListView
    app = QApplication.instance() or QApplication([])
    shown: list[float] = []
    meter = Meter()

    class View(QListView):
        def paintEvent(self, event):  # noqa: N802
            super().paintEvent(event)
            if not shown and self.model().rowCount() == n:
                shown.append(meter.seconds())

    warm_up(app)
    meter.start()
    view = View()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setUniformItemSizes(True)
    view.setModel(QStringListModel([f"grid-{i:06d}.jpg" for i in range(n)], view))
    view.resize(*SIZE)
    view.show()
    build_stall = meter.phase()
    rest_stall = meter.phase()  # a bare view has no later parts
    while not shown:
        app.processEvents()
        time.sleep(0.001)
    screen_stall = meter.phase()
    scroll(app, view)
    scroll_stall = meter.phase()
    return {"first_screen_s": shown[0], "all_rows_s": shown[0], "build_stall_ms": build_stall,
            "rest_stall_ms": rest_stall, "open_stall_ms": 0.0,
            "screen_stall_ms": screen_stall, "scroll_stall_ms": scroll_stall, "peak_rss_mb": peak_rss_mb()}


# Main --------------------------------------------------------------------------------------------

def child(kind: str, n: int, distinct: int, why: bool) -> dict[str, float]:
    """One measurement in a fresh process, so that its peak RSS is its own."""
    command = [sys.executable, __file__, "--child", kind, "--rows", str(n), "--distinct", str(distinct)]
    if why:
        command.append("--why")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(n: int, studio: dict[str, float], bare: dict[str, float]) -> None:
    target = TARGETS.get(n, 0.5)
    first = studio["first_screen_s"]
    print(f"\n== {n:,} rows ({studio['screen_rows']:.0f} cells on screen, {studio['decoded']:.0f} thumbnails "
          f"decoded, scrolled to {studio['scrolled']:.0%}) ==")
    print(f"first screen        {first:8.3f} s     bare QListView {bare['first_screen_s']:.3f} s "
          f"({first / bare['first_screen_s']:.1f}×)   target < {target} s  {verdict(first < target)}")
    print(f"all rows in         {studio['all_rows_s']:8.3f} s     (the first screen shows a first page; "
          "the rest are read and appended meanwhile)")
    for label, key in (("building the page", "build_stall_ms"), ("its later stages", "rest_stall_ms"),
                       ("until first screen", "screen_stall_ms"), ("reading the rest", "open_stall_ms"),
                       ("scrolling", "scroll_stall_ms")):
        stall = studio[key]
        print(f"stall {label:<19}{stall:6.1f} ms    bare QListView {bare[key]:5.1f} ms   "
              f"target < {STALL_MS:.0f} ms  {verdict(stall < STALL_MS)}")
    stages = ", ".join(f"{key[6:]} {took:.1f}" for key, took in studio.items() if key.startswith("stage "))
    print(f"  later stages, ms each on the UI thread: {stages}")
    print(f"  application() {studio['application_ms']:.1f} ms once, before any window (includes PySide making "
          "Qt's widget types, studio.ui.qt_types)")
    rows_mb = studio["peak_rss_mb"] - studio["rss_before_mb"]
    print(f"peak RSS            {studio['peak_rss_mb']:8.0f} MB    bare QListView {bare['peak_rss_mb']:.0f} MB "
          f"({studio['peak_rss_mb'] / bare['peak_rss_mb']:.1f}×); the page added {rows_mb:.0f} MB "
          f"({rows_mb * 1e6 / n:.0f} B/row)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="row counts, comma separated")
    parser.add_argument("--distinct", type=int, default=DISTINCT, help="distinct thumbnails")
    parser.add_argument("--why", action="store_true", help="print where the UI thread was when late")
    parser.add_argument("--child", choices=("studio", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        n = int(args.rows)
        result = run_studio(n, args.distinct, args.why) if args.child == "studio" else run_baseline(n)
        print(json.dumps(result))
        return 0
    sizes = [int(s) for s in args.rows.split(",")]
    print(f"grid benchmark: rows {', '.join(f'{n:,}' for n in sizes)}; {args.distinct} distinct thumbnails "
          f"(128 and 256, as an import writes them) "
          f"hard-linked per row; window {SIZE[0]}×{SIZE[1]} offscreen; timer {TICK_MS} ms; "
          f"scrolling a page per 60 ms for {SCROLL_S:.0f} s; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    for n in sizes:
        bare = child("bare", n, args.distinct, False)
        studio = child("studio", n, args.distinct, args.why)
        report(n, studio, bare)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: PySide6 on CPython 3.11 can abort while collecting Qt objects at
    # exit after the grid stage; every figure is printed by now.
    os._exit(code)
