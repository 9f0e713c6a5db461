"""Filling a workflow template: its parameters set by name, each value checked before use."""
from __future__ import annotations

import copy
import secrets
from typing import Any

from studio.engine.comfyui.validation import coerce, is_link, shorten
from studio.engine.comfyui.workflows import (
    LORA_LOADERS,
    RANDOM_SEED_LIMIT,
    FilledWorkflow,
    Parameter,
    WorkflowTemplate,
    split_target,
)
from studio.engine.errors import InvalidInput


def fill(template: WorkflowTemplate, values: dict[str, object]) -> FilledWorkflow:
    """A copy of the graph with ``values`` set by parameter name, each checked before use.

    ``seed`` None or -1 draws a random seed. ``lora_strength`` sets the model and CLIP strength
    unless ``lora_strength_model``/``lora_strength_clip`` are given too. ``lora_name`` "" runs
    without the LoRA: its loader is bypassed the way ComfyUI's Bypass does it.
    """
    params = template.parameters
    unknown = sorted(set(values) - set(params))
    if unknown:
        known = ", ".join(params) or "none"
        raise InvalidInput(f"The workflow '{template.name}' has no parameter '{unknown[0]}'; "
                           f"its parameters are: {known}.")
    graph = copy.deepcopy(template.graph)
    bypass: list[str] = []
    for param in _apply_order(params, values):
        value = values.get(param.name, param.default)
        if value is not None:
            value = coerce(param.name, param.type, value)
        if param.name == "seed" and value in (None, -1):
            value = secrets.randbelow(RANDOM_SEED_LIMIT + 1)
        if value is None:
            continue
        _check_range(param, value)
        for node_id, input_name in param.targets:
            graph[node_id]["inputs"][input_name] = value
            if value == "" and input_name == "lora_name" and (
                    graph[node_id]["class_type"] in LORA_LOADERS):
                bypass.append(node_id)
    for node_id in bypass:
        _bypass_lora(graph, node_id)
    # A bypassed LoRA's settings are recorded as None: they were not used.
    used = {p.name: (graph[p.node]["inputs"].get(p.input) if p.node in graph else None)
            for p in params.values()}
    seed = used.get("seed")
    return FilledWorkflow(graph, seed if isinstance(seed, int) else None, used)


def set_input(graph: dict[str, Any], key: str, value: object) -> None:
    """Sets one input in place, ``key`` "NODE.INPUT" (``comfy run --set 3.steps=30``).

    A string is converted to the type of the value already there, so "30" sets the int 30.
    """
    node_id, input_name = split_target(key)
    if node_id not in graph:
        raise InvalidInput(f"The workflow has no node '{node_id}'; its nodes are: "
                           f"{shorten(list(graph))}.")
    inputs = graph[node_id].setdefault("inputs", {})
    current = inputs.get(input_name)
    if is_link(current):
        raise InvalidInput(f"Input {key} is linked to node {current[0]}; only a value can be set.")
    if isinstance(value, str) and current is not None and not isinstance(current, str):
        kind = {bool: "bool", int: "int", float: "float"}.get(type(current), "str")
        value = coerce(key, kind, value)
    inputs[input_name] = value



def _apply_order(params: dict[str, Parameter], values: dict[str, object]) -> list[Parameter]:
    """Broad parameters first; one whose inputs another also sets applies only when given.

    So lora_strength sets both strengths and a given lora_strength_clip then overrides one.
    """
    def narrower(p: Parameter) -> bool:
        return any(set(p.targets) < set(q.targets) for q in params.values())

    chosen = [p for p in params.values() if not narrower(p) or p.name in values]
    return sorted(chosen, key=lambda p: -len(p.targets))


def _check_range(param: Parameter, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, high = param.minimum, param.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f"between {low} and {high}"
        else:
            bounds = f"at least {low}" if low is not None else f"at most {high}"
        raise InvalidInput(f"{param.name} must be {bounds}, not {value}.")
    if param.step and isinstance(value, int) and value % param.step:
        raise InvalidInput(f"{param.name} must be a multiple of {param.step}, not {value}.")


def _bypass_lora(graph: dict[str, Any], node_id: str) -> None:
    """Removes a LoRA loader, wiring its MODEL/CLIP consumers to the loader's own inputs."""
    node = graph.pop(node_id)
    sources = [node["inputs"].get("model"), node["inputs"].get("clip")]
    for other in graph.values():
        for name, value in other["inputs"].items():
            if is_link(value) and value[0] == node_id and value[1] < len(sources):
                other["inputs"][name] = sources[value[1]]
