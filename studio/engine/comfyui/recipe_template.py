"""Which workflow a picture's recipe is made again with, in any model family.

The recipe's own workflow when it is installed. Otherwise one of the same family (a recipe
records the workflow's ``family`` and ``kind``; older ones only the name), of the same kind
first, then a text-to-image one: a FLUX.1 picture is remade with a FLUX.1 workflow, never with
an SDXL one whose checkpoint loader knows nothing of the FLUX.1 model the recipe names.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.engine.comfyui.workflows import WorkflowTemplate


def template_for_recipe(recipe: Mapping[str, Any],
                        templates: Mapping[str, WorkflowTemplate]) -> WorkflowTemplate | None:
    """The installed workflow for ``recipe``, or None when none of its family is."""
    wanted = str(recipe.get("template") or "")
    if wanted in templates:
        return templates[wanted]
    family, kind = recipe.get("family"), recipe.get("kind")
    if not family or family == "other":
        return None
    same = sorted((t for t in templates.values() if t.base == family), key=lambda t: t.name)
    for wanted_kind in (kind, "txt2img"):
        found = next((t for t in same if t.kind == wanted_kind), None)
        if found is not None:
            return found
    return same[0] if same else None


def fitting_values(template: WorkflowTemplate, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The recipe's values the workflow has a place for, and the names of the others."""
    kept = {k: v for k, v in values.items() if k in template.parameters}
    return kept, sorted(k for k in values if k not in template.parameters)
