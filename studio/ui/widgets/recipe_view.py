"""A picture's recipe as readable fields (workflow, prompts, seed, steps, CFG, sampler, size,
models), how much it looks like her, the raw JSON behind a toggle, and "Load into form" that
hands the recipe to Generate.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.engine.loras.family import FAMILY_TITLES

# Values shown in their own rows (or folded into another row), not among "Other values".
SHOWN = {"positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "width", "height",
         "checkpoint", "lora_name", "lora_strength", "lora_strength_model", "lora_strength_clip",
         "denoise", "filename_prefix"}


def recipe_values(recipe: dict[str, Any]) -> dict[str, Any]:
    """The template values of a recipe (older recipes named them differently)."""
    for key in ("values", "parameters", "params"):
        found = recipe.get(key)
        if isinstance(found, dict):
            return found
    return {}


def recipe_fields(recipe: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) rows in reading order; a value the recipe lacks gets no row."""
    values = recipe_values(recipe)
    seed = recipe.get("seed", values.get("seed"))
    sampler = " · ".join(str(values[k]) for k in ("sampler", "scheduler") if values.get(k))
    size = f"{values['width']} × {values['height']}" if values.get("width") and values.get("height") else ""
    rows = [("Workflow", recipe.get("template")), ("Prompt", values.get("positive")),
            ("Negative prompt", values.get("negative")), ("Seed", seed), ("Steps", values.get("steps")),
            ("CFG", values.get("cfg")), ("Sampler", sampler), ("Size", size),
            ("Checkpoint", recipe.get("checkpoint") or values.get("checkpoint")),
            ("Model", recipe.get("model") if recipe.get("model") != recipe.get("checkpoint") else None),
            ("Family", FAMILY_TITLES.get(str(recipe.get("family")))),  # none for a user's own graph
            ("LoRA", _lora(recipe, values)), ("Denoise", values.get("denoise"))]
    rows += [(name.replace("_", " ").capitalize(), value) for name, value in sorted(values.items())
             if name not in SHOWN]
    job_seconds = (recipe.get("timings") or {}).get("job") if isinstance(recipe.get("timings"), dict) else None
    if job_seconds:
        rows.append(("Took", f"{float(job_seconds):.1f} s"))
    if recipe.get("comfyui_version"):
        rows.append(("ComfyUI", recipe["comfyui_version"]))
    return [(label, _text(value)) for label, value in rows if value not in (None, "", [], {})]


def identity_text(identity: dict[str, Any] | None) -> str:
    """Her identity score as users read it ("identity 0.83 · looks like her"), or why there is
    none; empty for a picture of no influencer."""
    if not identity:
        return ""
    score = identity.get("score")
    if isinstance(score, (int, float)):
        verdict = "looks like her" if score >= SAME_PERSON_SCORE else "does not look like her"
        return f"identity {score:.2f} · {verdict}"
    return f"not scored: {identity.get('note') or 'no score'}"


def _lora(recipe: dict[str, Any], values: dict[str, Any]) -> str:
    name = recipe.get("lora") or values.get("lora_name") or ""
    strength = recipe.get("lora_strength", values.get("lora_strength"))
    if not name:
        return ""
    return f"{name} at strength {strength:g}" if isinstance(strength, (int, float)) else str(name)


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


class RecipeView(QWidget):
    load_requested = Signal(dict)  # the recipe, for the Generate form

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recipe: dict[str, Any] = {}
        self.fields = QFormLayout()
        self.fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.json_button = QPushButton("Show JSON", self)
        self.json_button.setObjectName("recipe-json-toggle")
        self.json_button.setCheckable(True)
        self.load_button = QPushButton("Load into form", self)
        self.load_button.setObjectName("recipe-load")
        self.load_button.setToolTip("Generate's form takes this workflow and these values")
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("recipe-text")
        self.text.setReadOnly(True)
        self.text.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.json_button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.fields)
        layout.addWidget(self.text, 1)
        layout.addStretch(0)
        layout.addLayout(buttons)
        self.json_button.toggled.connect(self._on_json_toggled)
        self.load_button.clicked.connect(lambda: self.load_requested.emit(dict(self.recipe)))

    def set_recipe(self, recipe: dict[str, Any], identity: dict[str, Any] | None = None) -> None:
        """``identity``: the picture's verdict (Asset.meta["identity"]), shown first."""
        self.recipe = recipe
        while self.fields.rowCount():
            self.fields.removeRow(0)
        rows = recipe_fields(recipe)
        if identity_text(identity):
            rows.insert(0, ("Likeness", identity_text(identity)))
        for label, text in rows:
            value = QLabel(text, self)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"recipe-{label.lower().replace(' ', '-')}")
            self.fields.addRow(label, value)
        self.text.setPlainText(json.dumps(recipe, indent=2, sort_keys=True, default=str))
        self.load_button.setEnabled(bool(recipe.get("template")))

    def shown_fields(self) -> dict[str, str]:
        """Label → text of every row, as the user reads them."""
        found = {}
        for row in range(self.fields.rowCount()):
            label = self.fields.itemAt(row, QFormLayout.ItemRole.LabelRole)
            value = self.fields.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and value is not None:
                found[label.widget().text()] = value.widget().text()  # type: ignore[union-attr]
        return found

    def _on_json_toggled(self, shown: bool) -> None:
        self.text.setVisible(shown)
        self.json_button.setText("Hide JSON" if shown else "Show JSON")


class RecipeDialog(QDialog):
    """One picture's recipe; "Load into form" closes it and hands the recipe on."""

    load_requested = Signal(dict)

    def __init__(self, recipe: dict[str, Any], parent: QWidget | None = None, *,
                 identity: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recipe")
        self.view = RecipeView(self)
        self.view.set_recipe(recipe, identity)
        self.text = self.view.text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.view.load_requested.connect(self._on_load_requested)
        self.resize(560, 520)

    def _on_load_requested(self, recipe: dict[str, Any]) -> None:
        self.load_requested.emit(recipe)
        self.accept()
