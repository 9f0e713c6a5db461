"""Pages for areas that later versions fill in: they say what will be there, and show nothing fake."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    summary: str
    features: tuple[str, ...]


PLANS = {
    "training": Plan("Training", "Train a LoRA for an influencer with kohya sd-scripts.", (
        "Presets by base model, purpose and VRAM (sd15-likeness-12gb, sdxl-likeness-24gb, …)",
        "sd-scripts' own option names for fine tuning (learning_rate, network_dim, …)",
        "Live progress and loss while it trains, sample images as they appear",
        "LoRA files listed with their metadata, ready for generation",
    )),
    "video": Plan("Video", "Short clips for the social platforms.", (
        "AnimateDiff and Stable Video Diffusion through ComfyUI",
        "FFmpeg: crop to 9:16, subtitles, loudness, platform presets",
        "Progress while rendering, a preview when done",
    )),
    "plans": Plan("Plans", "Content plans written with an LLM, then produced.", (
        "Plans per influencer: dates, platforms, topics, hooks, captions, hashtags",
        "Image and video prompts for each post, sent to Generate and Video",
        "Token use and cost per plan, with a budget per workspace",
        "Scheduled pipelines from plan to finished post",
    )),
}


class ComingLaterPage(QWidget):
    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plan = PLANS[key]
        bullets = "".join(f"<li>{feature}</li>" for feature in plan.features)
        label = QLabel(f"<h2>{plan.title}</h2><p>{plan.summary}</p>"
                       f"<p><b>Coming in a later version:</b></p><ul>{bullets}</ul>", self)
        label.setObjectName("coming-later")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(label)
        layout.addStretch(1)
