"""The persona editor's fields; it knows nothing of the database."""
from __future__ import annotations

import re

from PySide6.QtWidgets import QFormLayout, QLineEdit, QPlainTextEdit, QWidget

from studio.engine.influencers import Persona


def parse_topics(text: str) -> list[str]:
    """Comma-separated or one per line."""
    return [t.strip() for t in re.split(r"[,\n]", text) if t.strip()]


class PersonaForm(QWidget):
    """The editor's fields; knows nothing of the database."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit(self)
        self.trigger_word = QLineEdit(self)
        self.trigger_word.setPlaceholderText("one token, e.g. mira_v1")
        self.tone = QLineEdit(self)
        self.style_edit = QLineEdit(self)  # not `style`: QWidget.style() is Qt's
        self.voice = QLineEdit(self)
        self.topics = QPlainTextEdit(self)
        self.topics.setPlaceholderText("travel, street food, film photography (or one per line)")
        self.topics.setFixedHeight(70)
        self.language = QLineEdit(self)
        self.language.setPlaceholderText("en")
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Anything the team should know about this character")
        self.notes.setMaximumHeight(150)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Name", self.name), ("Trigger word", self.trigger_word),
                              ("Tone", self.tone), ("Style", self.style_edit), ("Voice", self.voice),
                              ("Topics", self.topics), ("Language", self.language),
                              ("Notes", self.notes)):
            widget.setObjectName(label.lower().replace(" ", "_"))
            form.addRow(label, widget)

    def persona(self) -> Persona:
        return Persona(name=self.name.text(), trigger_word=self.trigger_word.text(),
                       tone=self.tone.text(), style=self.style_edit.text(), voice=self.voice.text(),
                       topics=parse_topics(self.topics.toPlainText()),
                       language=self.language.text(), notes=self.notes.toPlainText())

    def show_persona(self, persona: Persona) -> None:
        self.name.setText(persona.name)
        self.trigger_word.setText(persona.trigger_word)
        self.tone.setText(persona.tone)
        self.style_edit.setText(persona.style)
        self.voice.setText(persona.voice)
        self.topics.setPlainText("\n".join(persona.topics))
        self.language.setText(persona.language)
        self.notes.setPlainText(persona.notes)

    def empty(self) -> bool:
        """Nothing typed yet: what a new influencer's form shows."""
        return self.persona() == Persona(name="")
