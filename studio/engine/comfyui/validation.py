"""Checks an API-format workflow against a server's ``/object_info`` before it is queued.

Decision 10: a missing node pack, model or bad value is found here, in one plain sentence,
instead of minutes later in ComfyUI's own 400 reply. The checks mirror ComfyUI's
``execution.validate_inputs``: class types exist, required inputs are present, links point at
existing nodes and outputs, literals coerce to their type and sit inside min/max, and combo
values are among the options the server reports.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from studio.engine.errors import InvalidInput

# Combo inputs that name a model file: input name -> (models key, what a user calls it, folder).
MODEL_INPUTS: dict[str, tuple[str, str, str]] = {
    "ckpt_name": ("checkpoint", "checkpoint", "checkpoints"),
    "lora_name": ("lora", "LoRA", "loras"),
    "control_net_name": ("controlnet", "ControlNet model", "controlnet"),
    "vae_name": ("vae", "VAE", "vae"),
    "unet_name": ("unet", "diffusion model", "diffusion_models"),
    "clip_name": ("clip", "text encoder", "text_encoders"),
    "clip_name1": ("clip1", "text encoder", "text_encoders"),  # DualCLIPLoader (FLUX: clip_l, t5xxl)
    "clip_name2": ("clip2", "text encoder", "text_encoders"),
    "model_name": ("upscale", "upscale model", "upscale_models"),
}
# Node types that reuse an input name for another folder: (class prefix, input name) -> as above.
PACK_MODEL_INPUTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("ADE_", "model_name"): ("motion_model", "AnimateDiff motion model", "animatediff_models"),
    ("CLIPVisionLoader", "clip_name"): ("clip_vision", "CLIP vision model", "clip_vision"),
}

# Node-name patterns of the custom node packs creators meet most; ComfyUI-Manager finds the rest.
CUSTOM_PACKS: tuple[tuple[str, str, str], ...] = (
    ("prefix", "ADE_", "ComfyUI-AnimateDiff-Evolved"),
    ("prefix", "VHS_", "ComfyUI-VideoHelperSuite"),
    ("prefix", "ACN_", "ComfyUI-Advanced-ControlNet"),
    ("suffix", "Preprocessor", "comfyui_controlnet_aux"),
    ("prefix", "IPAdapter", "ComfyUI_IPAdapter_plus"),
    ("prefix", "FaceDetailer", "ComfyUI-Impact-Pack"),
    ("prefix", "UltralyticsDetectorProvider", "ComfyUI-Impact-Pack"),
)

# The order problems are reported in: a missing node or model makes the rest beside the point.
_SEVERITY = ("bad_graph", "missing_node", "missing_model", "not_in_list", "missing_input",
             "bad_link", "bad_value", "out_of_range", "no_output")
_LIST_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # one of _SEVERITY
    message: str  # one sentence a user can read as it is
    node: str | None = None
    input: str | None = None


class WorkflowInvalid(InvalidInput):
    """Raised by ``check``: str() names every problem in one line; ``problems`` has them apart."""

    def __init__(self, message: str, problems: tuple[Problem, ...]) -> None:
        super().__init__(message)
        self.problems = problems


def combo_options(spec: object) -> list[Any] | None:
    """The options of a combo input spec in either shape ComfyUI uses, or None if not a combo.

    Old-style nodes: ``[[options…], {…}]``;
    new-style (V3) nodes: ``["COMBO", {"options": […]}]``.
    """
    if not isinstance(spec, list) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO":
        extra = _spec_options(spec)
        return list(extra.get("options", []))
    return None


def choices(object_info: dict[str, Any], class_type: str, input_name: str) -> list[Any] | None:
    """What ComfyUI offers for a combo input (samplers, LoRAs…), for pickers; None if unknown."""
    inputs = object_info.get(class_type, {}).get("input", {})
    for group in ("required", "optional"):
        spec = inputs.get(group, {}).get(input_name)
        if spec is not None:
            return combo_options(spec)
    return None


def model_input(class_type: str, input_name: str) -> tuple[str, str, str] | None:
    """(models key, what a user calls it, folder) when this node's input names a model file."""
    for (prefix, name), model in PACK_MODEL_INPUTS.items():
        if input_name == name and class_type.startswith(prefix):
            return model
    return MODEL_INPUTS.get(input_name)


def custom_pack(class_type: str) -> str | None:
    """The custom node pack a node type usually comes from, when it is one we know."""
    for how, pattern, pack in CUSTOM_PACKS:
        if (how == "prefix" and class_type.startswith(pattern)) or (
                how == "suffix" and class_type.endswith(pattern)):
            return pack
    return None


def validate(graph: object, object_info: dict[str, Any]) -> list[Problem]:
    """Every problem ComfyUI would refuse the graph for, most important first."""
    if not isinstance(graph, dict) or not graph:
        return [Problem("bad_graph", "The workflow is empty or not in ComfyUI's API format.")]
    problems = _shape_problems(graph)
    if problems:
        return problems
    problems = _missing_nodes(graph, object_info)
    for node_id, node in graph.items():
        info = object_info.get(node["class_type"])
        if info is not None:
            problems.extend(_node_problems(graph, object_info, node_id, node, info))
    if not any(p.kind == "missing_node" for p in problems):
        problems.extend(_output_problems(graph, object_info))
    return sorted(problems, key=lambda p: _SEVERITY.index(p.kind))


def check(graph: object, object_info: dict[str, Any]) -> None:
    """Raises WorkflowInvalid (an InvalidInput) naming every problem when the graph would fail."""
    problems = validate(graph, object_info)
    if problems:
        raise WorkflowInvalid(refusal(problems), tuple(problems))


def refusal(problems: list[Problem]) -> str:
    """Every problem in one line, so a creator fixes them all in one go.

    One line because the CLI and the app show an error as one line. The sentences are numbered
    rather than joined with "; " because several already use "; it has: …" inside them. The
    same sentence twice (one LoRA missing for both of Wan's experts) is said once.
    """
    problems = list({p.message: p for p in problems}.values())
    if len(problems) == 1:
        return problems[0].message
    numbered = " ".join(f"({n}) {p.message}" for n, p in enumerate(problems, start=1))
    return f"{len(problems)} problems: {numbered}"


def coerce(name: str, kind: str, value: object) -> object:
    """``value`` as a ``kind`` parameter, converting text from a command line; else InvalidInput."""
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise InvalidInput(f"{name} must be a whole number, not {value!r}.")
    if kind == "float":
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise InvalidInput(f"{name} must be a number, not {value!r}.")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return text in ("true", "1", "yes", "on")
        raise InvalidInput(f"{name} must be true or false, not {value!r}.")
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, not {value!r}.")
    if kind == "image" and not value.strip():
        raise InvalidInput(f"{name} needs the name of an image uploaded to ComfyUI.")
    return value


def node_label(graph: dict[str, Any], node_id: str) -> str:
    """How messages name a node: its class and id, the way ComfyUI's UI shows them."""
    return f"{graph[node_id].get('class_type', '?')} (node {node_id})"


def shorten(names: list[Any], near: object = None) -> str:
    """A short list of names, closest to ``near`` first: "a, b, c (and 12 more)"."""
    texts = [str(n) for n in names]
    if near is not None:
        # Compared without the extension: ".safetensors" alone would make every file look close.
        stems = {_stem(t): t for t in reversed(texts)}
        found = difflib.get_close_matches(_stem(str(near)), list(stems), n=_LIST_SHOWN, cutoff=0.6)
        close = [stems[s] for s in found]
        texts = close + [t for t in texts if t not in close]
    shown = ", ".join(texts[:_LIST_SHOWN])
    rest = len(texts) - _LIST_SHOWN
    return f"{shown} (and {rest} more)" if rest > 0 else shown


def is_link(value: object) -> TypeGuard[list[Any]]:
    """A link is ``[source_node_id, output_index]`` with a string id, as ComfyUI reads it."""
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int) and not isinstance(value[1], bool))


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _spec_options(spec: list[Any]) -> dict[str, Any]:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def _shape_problems(graph: dict[str, Any]) -> list[Problem]:
    problems = []
    for node_id, node in graph.items():
        if (not isinstance(node, dict) or not isinstance(node.get("class_type"), str)
                or not isinstance(node.get("inputs", {}), dict)):
            problems.append(Problem("bad_graph", f"Node {node_id} has no class_type or inputs; "
                                    "the file is not in ComfyUI's API format.", node_id))
    return problems


def _missing_nodes(graph: dict[str, Any], object_info: dict[str, Any]) -> list[Problem]:
    """One problem per missing pack (or unknown node type), naming the nodes it would provide."""
    missing: dict[str, list[str]] = {}
    for node in graph.values():
        class_type = node["class_type"]
        if class_type not in object_info:
            classes = missing.setdefault(custom_pack(class_type) or "", [])
            if class_type not in classes:
                classes.append(class_type)
    problems = []
    for pack, classes in missing.items():
        if pack:
            nodes = ("node " + classes[0] + " is") if len(classes) == 1 else (
                "nodes " + ", ".join(classes) + " are")
            text = f"This workflow needs the custom node pack {pack} ({nodes} not installed)."
            problems.append(Problem("missing_node", text))
        else:
            for class_type in classes:
                text = (f"ComfyUI has no node type {class_type}; install the custom node pack "
                        "that provides it (ComfyUI-Manager can find it).")
                problems.append(Problem("missing_node", text))
    return problems


def _node_problems(graph: dict[str, Any], object_info: dict[str, Any], node_id: str,
                   node: dict[str, Any], info: dict[str, Any]) -> list[Problem]:
    declared = info.get("input", {})
    required = declared.get("required", {}) or {}
    optional = declared.get("optional", {}) or {}
    inputs = node.get("inputs", {})
    where = node_label(graph, node_id)
    problems = [Problem("missing_input", f"{where} is missing its required input '{name}'.", node_id, name)
                for name in required if name not in inputs]
    for name, spec in {**required, **optional}.items():
        if name in inputs and isinstance(spec, list):
            problem = _input_problem(graph, object_info, node_id, name, spec, inputs[name])
            if problem is not None:
                problems.append(problem)
    return problems


def _input_problem(graph: dict[str, Any], object_info: dict[str, Any], node_id: str,
                   name: str, spec: list[Any], value: object) -> Problem | None:
    where = node_label(graph, node_id)
    if is_link(value):
        return _link_problem(graph, object_info, node_id, name, spec, value)
    if isinstance(value, list):
        return Problem("bad_link", f"{where} input '{name}' is a list but not a link "
                       "[node_id, output_index].", node_id, name)
    if isinstance(value, dict):  # {"__value__": [...]} wraps a literal list; ComfyUI unwraps it
        return None
    options = combo_options(spec)
    if options is not None:
        model = model_input(str(graph[node_id]["class_type"]), name)
        return _combo_problem(where, node_id, name, spec, options, value, model)
    kind = spec[0] if spec else None
    if kind in ("INT", "FLOAT"):
        return _number_problem(where, node_id, name, kind, _spec_options(spec), value)
    if kind in ("STRING", "BOOLEAN", "*") or not isinstance(kind, str):
        return None
    return Problem("bad_value", f"{where} input '{name}' takes a {kind} and must be linked to "
                   "another node's output, not given a value.", node_id, name)


def _combo_problem(where: str, node_id: str, name: str, spec: list[Any], options: list[Any],
                   value: object, model: tuple[str, str, str] | None) -> Problem | None:
    extra = _spec_options(spec)
    # LoadImage & co check the file themselves (VALIDATE_INPUTS), so ComfyUI skips the list
    # check; an image uploaded after /object_info was read would be refused wrongly here.
    if extra.get("image_upload") or extra.get("video_upload") or extra.get("audio_upload"):
        return None
    if value in options:
        return None
    if model is not None:
        _, label, folder = model
        listed = f"it has: {shorten(options, value)}." if options else "which is empty."
        joiner = "; " if options else ", "
        text = f"The {label} '{value}' is not in ComfyUI's {folder} folder{joiner}{listed}"
        return Problem("missing_model", text, node_id, name)
    text = (f"{where} has {name} '{value}', which ComfyUI does not offer; "
            f"it has: {shorten(options, value)}.")
    return Problem("not_in_list", text, node_id, name)


def _as_number(kind: str, value: object) -> float | None:
    """The literal as ComfyUI coerces it before checking the range; None when it is not a number."""
    if not isinstance(value, str | int | float):
        return None
    try:
        return int(value) if kind == "INT" else float(value)
    except (ValueError, OverflowError):
        return None


def _number_problem(where: str, node_id: str, name: str, kind: str, extra: dict[str, Any],
                    value: object) -> Problem | None:
    number = _as_number(kind, value)
    if number is None:
        what = "a whole number" if kind == "INT" else "a number"
        return Problem("bad_value", f"{where} has {name} {value!r}, which is not {what}.",
                       node_id, name)
    if not math.isfinite(number):
        return Problem("bad_value", f"{where} has {name} {value!r}, which is not a finite number.",
                       node_id, name)
    low, high = extra.get("min"), extra.get("max")
    if low is not None and number < low:
        return Problem("out_of_range", f"{where} has {name} {value}, below ComfyUI's minimum "
                       f"of {low}.", node_id, name)
    if high is not None and number > high:
        return Problem("out_of_range", f"{where} has {name} {value}, above ComfyUI's maximum "
                       f"of {high}.", node_id, name)
    return None


def _link_problem(graph: dict[str, Any], object_info: dict[str, Any], node_id: str, name: str,
                  spec: list[Any], link: list[Any]) -> Problem | None:
    where = node_label(graph, node_id)
    source_id, slot = link
    if source_id not in graph:
        return Problem("bad_link", f"{where} input '{name}' is linked to node {source_id}, "
                       "which is not in the workflow.", node_id, name)
    source_info = object_info.get(graph[source_id]["class_type"])
    if source_info is None:  # already reported as a missing node
        return None
    outputs = source_info.get("output", [])
    if not 0 <= slot < len(outputs):
        return Problem("bad_link", f"{where} input '{name}' is linked to output {slot} of "
                       f"{node_label(graph, source_id)}, which has {len(outputs)} outputs.",
                       node_id, name)
    wanted, given = spec[0] if spec else None, outputs[slot]
    if (isinstance(wanted, str) and isinstance(given, str) and "*" not in (wanted, given)
            and wanted != "COMBO" and given not in wanted.split(",")):
        return Problem("bad_link", f"{where} input '{name}' expects {wanted} but is linked to "
                       f"{node_label(graph, source_id)}, which gives {given}.", node_id, name)
    return None


def _output_problems(graph: dict[str, Any], object_info: dict[str, Any]) -> list[Problem]:
    """ComfyUI runs only what an output node needs; without one it refuses the whole prompt."""
    if any(object_info[n["class_type"]].get("output_node") for n in graph.values()):
        return []
    return [Problem("no_output", "The workflow has no output node (such as Save Image), so "
                    "ComfyUI would run nothing.")]
