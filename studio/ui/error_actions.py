"""The window's wording of an error, and the button that helps with it.

The engine's messages serve the command line too, so some name a command to run
(`` `influencerai-studio spend budget USD` ``). In the window the user has buttons instead: each
rule below rewrites such a sentence into what to do here and names the button that does it
("Raise budget…", "Open Settings…", "Show log"). A message no rule knows but that still names a
command loses that part, so no line in the window asks for a terminal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from studio.engine.llm.budget import SET_BUDGET_HINT
from studio.ui.context import StudioContext


class Action(StrEnum):
    RAISE_BUDGET = "Raise budget…"
    OPEN_SETTINGS = "Open Settings…"
    SHOW_LOG = "Show log"


@dataclass(frozen=True, slots=True)
class WindowMessage:
    text: str
    action: Action | None = None
    settings_group: str = ""  # the Settings group Open Settings… shows


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    replacement: str
    action: Action | None = None
    settings_group: str = ""


def _rule(pattern: str, replacement: str, action: Action | None = None, group: str = "") -> Rule:
    return Rule(re.compile(pattern), replacement, action, group)


LLM, TEAM, COMFY, TOOLS = "LLM", "Team server", "ComfyUI", "Training tools"  # Settings groups
RULES = (
    _rule(r"\s*with " + re.escape(SET_BUDGET_HINT), "", Action.RAISE_BUDGET),
    _rule(r"Check the key: `[^`]*secret set openrouter`\.", "Check the OpenRouter key in Settings, LLM.",
          Action.OPEN_SETTINGS, LLM),
    _rule(r"add one with `[^`]*secret set openrouter` \(or point llm\.base_url at",
          "add one in Settings, LLM (or point the server address there at", Action.OPEN_SETTINGS, LLM),
    _rule(r"set one with `settings set llm\.plan_model MODEL` \(or llm\.model\), or pass --model\.",
          "choose one in Settings, LLM.", Action.OPEN_SETTINGS, LLM),
    _rule(r"set one with `settings set llm\.model MODEL`", "choose one in Settings, LLM",
          Action.OPEN_SETTINGS, LLM),
    _rule(r"set comfyui\.url\.", "set its address in Settings, ComfyUI.", Action.OPEN_SETTINGS, COMFY),
    _rule(r"\(set sdscripts\.folder or pass --sd-scripts\)", "(set it in Settings, Training tools)",
          Action.OPEN_SETTINGS, TOOLS),
    _rule(r"Set sdscripts\.folder or pass --sd-scripts DIR\.", "Set it in Settings, Training tools.",
          Action.OPEN_SETTINGS, TOOLS),
    _rule(r"set sdscripts\.python\.", "choose sd-scripts' Python in Settings, Training tools.",
          Action.OPEN_SETTINGS, TOOLS),
    _rule(r"use `server connect`\.", "connect in Settings, Team server.", Action.OPEN_SETTINGS, TEAM),
    _rule(r"`jobs retry [^`]*` runs it again\.", "Retry runs it again."),
    _rule(r"restore it \(`trash restore [^`]*`\) or purge it \(`trash purge [^`]*`\)",
          "restore it from the trash or purge it there"),
    _rule(r" \(an id or file name from `train checkpoints`\)", " (one the Training page lists)"),
    _rule(r"`influencerai-studio doctor` checks it\.", "Help, System check… looks at it."),
    _rule(r"Run `influencerai-studio doctor` to check them", "Help, System check… checks them"),
    _rule(r"Repair it with `[^`]*settings set KEY VALUE` \(e\.g\. [^)]*\) or edit it\.",
          "Repair it in Settings, or edit the file."),
    _rule(r"\s*See `train presets --json` for every setting\.", ""),
    _rule(r"use `train resume JOB`", "use Resume on the Training page"),
    _rule(r"unexpected fields", "fields it does not know"),
    _rule(r"^Unexpected error: (.*)$", r"Something went wrong (\1). Details are in the log folder.",
          Action.SHOW_LOG),
    _rule(r"Details are in the log folder\.", "Details are in the log folder.", Action.SHOW_LOG),
    _rule(r"(stopped|exited) unexpectedly", r"\1 by itself", Action.SHOW_LOG),
)
_HEAD = re.compile(r"[;:,(]?\s*\b(?:or |and )?(?:run|use|see|with|set|type)\b[^;:,(]*$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=1024)  # the Queue's table words each row's error on every paint
def for_window(text: str) -> WindowMessage:
    """The window's wording of one engine message, with the button that helps, if any."""
    action, group = None, ""
    for rule in RULES:
        text, found = rule.pattern.subn(rule.replacement, text)
        if found and rule.action is not None and action is None:
            action, group = rule.action, rule.settings_group
    return WindowMessage(_without_commands(text), action, group)


def _without_commands(text: str) -> str:
    """A sentence naming a command no rule rewrote is left out, but for the first one, which
    keeps what it says before the command."""
    if "`" not in text:
        return text
    sentences = _SENTENCE.split(text)
    kept = [s for s in sentences[1:] if "`" not in s]
    first = sentences[0]
    if "`" in first:
        first = _HEAD.split(first.split("`", 1)[0].strip())[0].rstrip(" .;:,(") + "."
    return " ".join(s for s in [first, *kept] if s.strip(" .")) or "Details are in the log folder."


# Doing the action ------------------------------------------------------------------------------

@runtime_checkable
class Window(Protocol):
    """The main window, as far as the actions need it."""
    context: StudioContext

    def show_page(self, key: str) -> None: ...


def perform(message: WindowMessage, origin: QWidget) -> None:
    """Does what the message's button says, from the window ``origin`` is in."""
    window = origin.window()
    if message.action is Action.SHOW_LOG:
        context = window.context if isinstance(window, Window) else None
        if context is not None:
            logs = context.studio.paths.logs_dir
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(logs)))
        return
    if not isinstance(window, Window):
        return
    if message.action is Action.RAISE_BUDGET:
        from studio.ui.widgets.spend_dialog import open_spend_dialog  # the dialog pulls in QtCharts
        open_spend_dialog(window.context, window, on_closed=lambda: None)
    elif message.action is Action.OPEN_SETTINGS:
        window.show_page("settings")
        pages = getattr(window, "pages", {})
        settings = pages.get("settings") if isinstance(pages, dict) else None
        show_group = getattr(settings, "show_group", None)
        if message.settings_group and callable(show_group):
            show_group(message.settings_group)
