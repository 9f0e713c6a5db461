"""The status-bar strip: one coloured dot and word per service, with a plain tooltip."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from studio.ui.health import SHOWN, Health, checking

COLORS = {"ok": "#2e9d57", "missing": "#d08a1c", "problem": "#d64545", "checking": "#8a8d91"}
WORDS = {"ok": "ok", "missing": "not found", "problem": "problem", "checking": "checking…"}

OK_WORDS = {"worker": "running", "queue": ""}
PURPOSE = {
    "worker": "The worker runs queued jobs in the background, even after the window closes.",
    "database": "The database keeps influencers, jobs and everything else you make.",
    "queue": "The queue holds jobs until a worker takes them.",
    "comfyui": "ComfyUI renders pictures and videos.",
    "ffmpeg": "FFmpeg crops, subtitles and exports videos.",
    "sdscripts": "kohya sd-scripts trains LoRAs.",
}


class HealthStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(14)
        self.labels: dict[str, QLabel] = {}
        for key in SHOWN:
            label = QLabel(self)
            label.setObjectName(f"health-{key}")
            layout.addWidget(label)
            self.labels[key] = label
            self.show_health(checking(key))

    def show_all(self, found: dict[str, Health]) -> None:
        for key in SHOWN:
            self.show_health(found.get(key) or checking(key))

    def show_health(self, health: Health) -> None:
        label = self.labels[health.key]
        word = WORDS.get(health.status, health.status)
        if health.status == "ok" and health.key in OK_WORDS:
            word = OK_WORDS[health.key]
        text = f"{health.label} {word}".strip() if word else health.label
        label.setText(f'<span style="color:{COLORS.get(health.status, "#8a8d91")}">●</span> {text}')
        lines = [PURPOSE.get(health.key, ""), health.detail]
        if health.fix:
            lines.append(f"What to do: {health.fix}")
        tip = "\n".join(line for line in lines if line)
        label.setToolTip(tip)
        label.setProperty("status", health.status)
