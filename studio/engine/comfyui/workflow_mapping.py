"""Mapping a graph's inputs to parameter names: guessed for an unknown graph, listed for editing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.engine.comfyui.validation import is_link
from studio.engine.comfyui.workflows import WorkflowTemplate, ordered_ids

# Literal inputs of well-known nodes and the parameter names they get (see guess_parameters).
_GUESSES: dict[str, dict[str, str | list[str]]] = {
    "KSampler": {"seed": "seed", "steps": "steps", "cfg": "cfg", "sampler": "sampler_name",
                 "scheduler": "scheduler", "denoise": "denoise"},
    "KSamplerAdvanced": {"seed": "noise_seed", "steps": "steps", "cfg": "cfg",
                         "sampler": "sampler_name", "scheduler": "scheduler"},
    "CheckpointLoaderSimple": {"checkpoint": "ckpt_name"},
    "LoraLoader": {"lora_name": "lora_name", "lora_strength": ["strength_model", "strength_clip"]},
    "LoraLoaderModelOnly": {"lora_name": "lora_name", "lora_strength": "strength_model"},
    "EmptyLatentImage": {"width": "width", "height": "height", "batch_size": "batch_size"},
    "EmptySD3LatentImage": {"width": "width", "height": "height", "batch_size": "batch_size"},
    "SaveImage": {"filename_prefix": "filename_prefix"},
    "ControlNetLoader": {"controlnet": "control_net_name"},
    "ControlNetApplyAdvanced": {"controlnet_strength": "strength"},
    "ControlNetApply": {"controlnet_strength": "strength"},
}
_SAMPLERS = ("KSampler", "KSamplerAdvanced")


def guess_parameters(graph: dict[str, Any]) -> dict[str, str | list[str]]:
    """A proposed mapping for an unknown graph, by node class, for the UI to offer.

    The first node of each kind wins; prompts are found by following the sampler's
    positive/negative links back to a CLIPTextEncode (through ControlNet nodes on the way).
    """
    mapping: dict[str, str | list[str]] = {}
    for node_id in ordered_ids(graph):
        node = graph[node_id]
        for name, inputs in _GUESSES.get(node["class_type"], {}).items():
            targets = [inputs] if isinstance(inputs, str) else inputs
            if name in mapping or not all(_is_literal(node, i) for i in targets):
                continue
            found = [f"{node_id}.{i}" for i in targets]
            mapping[name] = found[0] if isinstance(inputs, str) else found
        if node["class_type"] == "LoadImage" and _is_literal(node, "image"):
            role = "pose_image" if _feeds_controlnet(graph, node_id) else "input_image"
            mapping.setdefault(role, f"{node_id}.image")
    sampler = next((graph[i] for i in ordered_ids(graph) if graph[i]["class_type"] in _SAMPLERS),
                   None)
    for role in ("positive", "negative"):
        link = sampler["inputs"].get(role) if sampler else None
        text = _find_text(graph, link, role)
        if text:
            mapping[role] = text
    return mapping


# Names the Generate page knows how to show; a mapping may use any other name too.
KNOWN_PARAMETERS = ("positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler",
                    "denoise", "width", "height", "batch_size", "checkpoint", "lora_name",
                    "lora_strength", "input_image", "pose_image", "controlnet",
                    "controlnet_strength", "filename_prefix")


@dataclass(frozen=True, slots=True)
class NodeInput:
    """A value typed into a graph (not a link): what a parameter can point at."""

    node: str
    class_type: str
    title: str  # the node's title in ComfyUI, when the export kept it
    input: str
    value: object

    @property
    def key(self) -> str:
        return f"{self.node}.{self.input}"


def literal_inputs(graph: dict[str, Any]) -> list[NodeInput]:
    """Every value in the graph, node by node in id order, for a mapping editor to list."""
    found = []
    for node_id in ordered_ids(graph):
        node = graph[node_id]
        title = str((node.get("_meta") or {}).get("title") or "")
        for name, value in (node.get("inputs") or {}).items():
            if not is_link(value):
                found.append(NodeInput(node_id, node["class_type"], title, name, value))
    return found


def mapping_of(template: WorkflowTemplate) -> dict[str, str | list[str]]:
    """A template's parameters in the shorthand a sidecar and ``add_workflow`` take."""
    mapping: dict[str, str | list[str]] = {}
    for name, param in template.parameters.items():
        keys = [f"{node}.{name_}" for node, name_ in param.targets]
        mapping[name] = keys[0] if len(keys) == 1 else keys
    return mapping


def _is_literal(node: dict[str, Any], input_name: str) -> bool:
    return input_name in node["inputs"] and not is_link(node["inputs"][input_name])


def _feeds_controlnet(graph: dict[str, Any], node_id: str) -> bool:
    for node in graph.values():
        image = node["inputs"].get("image")
        if node["class_type"].startswith("ControlNetApply") and is_link(image) and (
                image[0] == node_id):
            return True
    return False


def _find_text(graph: dict[str, Any], link: object, role: str) -> str | None:
    """The CLIPTextEncode text behind a conditioning link, following pass-through nodes."""
    for _ in range(len(graph)):  # bounded: a malformed graph could hold a cycle
        if not is_link(link) or link[0] not in graph:
            return None
        node_id = link[0]
        node = graph[node_id]
        if node["class_type"] == "CLIPTextEncode":
            return f"{node_id}.text" if _is_literal(node, "text") else None
        link = node["inputs"].get(role, node["inputs"].get("conditioning"))
    return None
