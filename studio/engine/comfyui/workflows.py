"""Workflow templates: ComfyUI API-format graphs whose inputs a creator changes by name.

A template is a graph saved with ComfyUI's "Export (API)" plus a sidecar ``<name>.params.json``
that names its parameters (``seed`` -> node "3" input "seed"), the models it loads and the node
types it needs. Built-ins live in ``resources/workflows``; users add their own files, with or
without a sidecar: a graph nobody mapped still runs exactly as it was exported.

This module loads templates; ``workflow_fill`` sets their values and ``workflow_mapping``
proposes parameters for a graph nobody mapped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from studio.engine.comfyui import graph_json
from studio.engine.comfyui.validation import choices, is_link, model_input
from studio.engine.errors import InvalidInput
from studio.engine.fsutil import FileStamp
from studio.resources import resource_path

BUILTIN_DIR = resource_path("workflows")
SIDECAR_SUFFIX = ".params.json"
PARAMETER_TYPES = ("str", "int", "float", "bool", "image")
# Random seeds stay below 2**31 so every spin box can show them; any seed ComfyUI takes
# (up to 2**64 - 1) can still be given by hand.
RANDOM_SEED_LIMIT = 2**31 - 1
LORA_LOADERS = ("LoraLoader", "LoraLoaderModelOnly")
# Templates read from their files, by path: (the files' signatures, the template). Templates
# are never changed once made (see WorkflowTemplate), so one may be handed out again.
_kept: dict[Path, tuple[tuple[FileStamp | None, FileStamp | None], WorkflowTemplate]] = {}

_TITLES = {"positive": "Prompt", "negative": "Negative prompt", "cfg": "CFG", "lora_name": "LoRA",
           "lora_strength": "LoRA strength", "batch_size": "Batch size",
           "filename_prefix": "File name prefix", "controlnet": "ControlNet model"}


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str  # one of PARAMETER_TYPES; "image" is a file name in ComfyUI's input folder
    targets: tuple[tuple[str, str], ...]  # (node id, input name); lora_strength sets two
    default: object = None  # None: leave the graph's own value
    minimum: float | None = None
    maximum: float | None = None
    step: int | None = None  # width/height: the latent is 1/8 of the image, so multiples of 8
    title: str = ""
    description: str = ""

    @property
    def node(self) -> str:
        return self.targets[0][0]

    @property
    def input(self) -> str:
        return self.targets[0][1]


@dataclass(frozen=True, slots=True)
class ModelSlot:
    node: str
    input: str
    folder: str  # ComfyUI's models/<folder>: checkpoints, loras, diffusion_models, text_encoders…
    file: str = ""  # the file name the template expects there ("" for an optional LoRA)
    source: str = ""  # where the model's authors publish it, for the user to fetch by hand


@dataclass(frozen=True, slots=True)
class WorkflowTemplate:
    """One runnable graph. ``graph`` is shared: never change it, ``fill`` returns a copy."""

    name: str
    title: str
    base: str  # a family of studio.engine.training.config.FAMILIES, or "other" for a user's graph
    kind: str  # "txt2img", "img2img", "controlnet-pose", or "custom"
    graph: dict[str, Any]
    parameters: dict[str, Parameter]
    models: dict[str, ModelSlot]
    required_nodes: tuple[str, ...]
    description: str = ""
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class FilledWorkflow:
    graph: dict[str, Any]  # ready for POST /prompt
    seed: int | None  # the seed used (drawn at random when asked), None without a seed parameter
    values: dict[str, object]  # every parameter's value as sent: the recipe of the result


class LoadedTemplates(NamedTuple):
    templates: dict[str, WorkflowTemplate]
    errors: list[str]  # one readable line per file that could not be loaded


def read_graph(path: Path) -> dict[str, Any]:
    """Reads an API-format workflow file; a UI-format file or anything else is refused plainly."""
    try:
        data = graph_json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, TooDeep
        raise InvalidInput(f"The workflow {Path(path).name} cannot be read: {exc}") from None
    return parse_graph(data, Path(path).name)


def parse_graph(data: object, source: str = "The workflow") -> dict[str, Any]:
    """Checks that ``data`` has the API format's shape: {node_id: {class_type, inputs}}."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and isinstance(
            data.get("links"), list):
        raise InvalidInput(f"{source} is a ComfyUI UI workflow; save it from ComfyUI with "
                           "Workflow > Export (API) and use that file.")
    if not isinstance(data, dict) or not data:
        raise InvalidInput(f"{source} is not a ComfyUI API-format workflow (no nodes in it).")
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str) or (
                not isinstance(node.get("inputs"), dict)):
            raise InvalidInput(f"{source} is not a ComfyUI API-format workflow (node {node_id} "
                               "has no class_type or inputs).")
    return data


def load_templates(folder: Path | None = None,
                   builtin_dir: Path = BUILTIN_DIR) -> LoadedTemplates:
    """Built-in templates plus the user's folder; a broken user file is reported, not fatal."""
    templates: dict[str, WorkflowTemplate] = {}
    errors: list[str] = []
    for directory, builtin in ((builtin_dir, True), (folder, False)):
        if directory is None or not Path(directory).is_dir():
            continue
        for path in sorted(Path(directory).glob("*.json")):
            if path.name.endswith(SIDECAR_SUFFIX):
                continue
            try:
                template = _load_kept(path)
            except InvalidInput as exc:
                errors.append(str(exc))
                continue
            if not builtin and template.name in templates:
                errors.append(f"The workflow {path.name} has the same name as another template "
                              f"('{template.name}'); rename the file to use it.")
                continue
            templates[template.name] = template
    return LoadedTemplates(templates, errors)


def _load_kept(path: Path) -> WorkflowTemplate:
    """``load_template``, kept while neither the graph file nor its sidecar changed: a worker
    looks up the template of every job it runs, and reading them all took about 4 ms a job."""
    key = (FileStamp.of(path), FileStamp.of(_sidecar(path)))
    kept = _kept.get(path)
    if kept is not None and kept[0] == key:
        return kept[1]
    template = load_template(path)
    _kept[path] = (key, template)
    return template


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name[: -len(".json")] + SIDECAR_SUFFIX)


def load_template(path: Path) -> WorkflowTemplate:
    """A graph file and, when there is one, its sidecar; without a sidecar it has no parameters."""
    path = Path(path)
    sidecar = _sidecar(path)
    if not sidecar.exists():
        return load_user_workflow(path)
    graph = read_graph(path)
    try:
        meta = graph_json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, TooDeep
        raise InvalidInput(f"The parameters file {sidecar.name} cannot be read: {exc}") from exc
    if not isinstance(meta, dict):
        raise InvalidInput(f"The parameters file {sidecar.name} is not a JSON object.")
    return _from_sidecar(path, graph, meta, sidecar.name)


def load_user_workflow(path: Path, mapping: dict[str, str | list[str]] | None = None
                       ) -> WorkflowTemplate:
    """Any API-format file exported from ComfyUI; ``mapping`` names parameters ("3.seed")."""
    path = Path(path)
    graph = read_graph(path)
    raw = {name: {"targets": [target] if isinstance(target, str) else target}
           for name, target in (mapping or {}).items()}
    parameters = parse_parameters(raw, graph, path.name)
    return WorkflowTemplate(
        name=path.stem, title=path.stem, base="other", kind="custom", graph=graph,
        parameters=parameters, models=detect_models(graph, parameters),
        required_nodes=_class_types(graph), path=path)


def parameter_choices(template: WorkflowTemplate, name: str,
                      object_info: dict[str, Any]) -> list[Any] | None:
    """What ComfyUI offers for a parameter that is a combo (sampler, checkpoint, LoRA…)."""
    param = template.parameters[name]
    node = template.graph.get(param.node, {})
    return choices(object_info, node.get("class_type", ""), param.input)


def _from_sidecar(path: Path, graph: dict[str, Any], meta: dict[str, Any],
                  where: str) -> WorkflowTemplate:
    parameters = parse_parameters(meta.get("parameters") or {}, graph, where)
    models = _models(meta["models"], graph, where) if meta.get("models") is not None \
        else detect_models(graph, parameters)  # a sidecar written before models were recorded
    found = _class_types(graph)
    required = tuple(sorted(meta.get("required_nodes") or found))
    if required != found:
        raise InvalidInput(f"{where}: required_nodes {list(required)} does not match the node "
                           f"types in the graph {list(found)}.")
    return WorkflowTemplate(
        name=str(meta.get("name") or path.stem), title=str(meta.get("title") or path.stem),
        base=str(meta.get("base") or "other"), kind=str(meta.get("kind") or "custom"),
        graph=graph, parameters=parameters, models=models, required_nodes=required,
        description=str(meta.get("description", "")), path=path)


def _models(raw: object, graph: dict[str, Any], where: str) -> dict[str, ModelSlot]:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: models must be an object naming each model's node and input.")
    models = {}
    for key, slot in raw.items():
        if not isinstance(slot, dict):
            raise InvalidInput(f"{where}: model '{key}' must be an object with node and input.")
        node_id, input_name = _target(slot, graph, where, key)
        models[key] = ModelSlot(node_id, input_name, str(slot.get("folder", "")),
                                file=str(slot.get("file", "")), source=str(slot.get("source", "")))
    return models


def parse_parameters(raw: dict[str, Any], graph: dict[str, Any], where: str) -> dict[str, Parameter]:
    params = {}
    for name, spec in raw.items():
        if isinstance(spec, (str, list)):  # shorthand: "3.seed" or ["10.a", "10.b"]
            spec = {"targets": [spec] if isinstance(spec, str) else spec}
        if not isinstance(spec, dict):
            raise InvalidInput(f"{where}: parameter '{name}' must be an object or 'NODE.INPUT'.")
        targets = tuple(_target(t, graph, where, name) for t in spec.get("targets", [spec]))
        if not targets:
            raise InvalidInput(f"{where}: parameter '{name}' names no node input.")
        node_id, input_name = targets[0]
        current = graph[node_id]["inputs"][input_name]
        kind = spec.get("type") or _infer_type(graph[node_id]["class_type"], input_name, current)
        if kind not in PARAMETER_TYPES:
            raise InvalidInput(f"{where}: parameter '{name}' has unknown type '{kind}'.")
        params[name] = Parameter(
            name=name, type=kind, targets=targets, default=spec.get("default", current),
            minimum=spec.get("min"), maximum=spec.get("max"), step=spec.get("step"),
            title=str(spec.get("title") or _TITLES.get(name)
                      or name.replace("_", " ").capitalize()),
            description=str(spec.get("description", "")))
    return params


def _target(spec: object, graph: dict[str, Any], where: str, name: str) -> tuple[str, str]:
    """A (node, input) from "NODE.INPUT" or {"node", "input"}; it must be a literal in the graph."""
    if isinstance(spec, dict):
        node_id, input_name = str(spec.get("node", "")), str(spec.get("input", ""))
    elif isinstance(spec, str):
        node_id, input_name = split_target(spec)
    else:
        raise InvalidInput(f"{where}: '{name}' must name a node input as NODE.INPUT.")
    if node_id not in graph or input_name not in graph[node_id]["inputs"]:
        raise InvalidInput(f"{where}: '{name}' points at {node_id}.{input_name}, which is not an "
                           "input of the graph.")
    if is_link(graph[node_id]["inputs"][input_name]):
        raise InvalidInput(f"{where}: '{name}' points at {node_id}.{input_name}, which is a link "
                           "to another node, not a value.")
    return node_id, input_name


def split_target(key: str) -> tuple[str, str]:
    """("3", "seed") from "3.seed", the NODE.INPUT shorthand of sidecars and ``--set``."""
    node_id, dot, input_name = key.rpartition(".")  # ids may hold dots rarely, inputs never
    if not dot or not node_id or not input_name:
        raise InvalidInput(f"'{key}' does not name a node input; write NODE.INPUT, "
                           "for example 3.seed.")
    return node_id, input_name


def _infer_type(class_type: str, input_name: str, value: object) -> str:
    if class_type == "LoadImage" and input_name == "image":
        return "image"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else "str"


def detect_models(graph: dict[str, Any], parameters: dict[str, Parameter] | None = None
                  ) -> dict[str, ModelSlot]:
    """The models a graph loads by kind (checkpoint, lora, …), as a built-in's sidecar declares
    them: the loader a parameter points at, else the first loader node of that kind."""
    mapped = [target for param in (parameters or {}).values() for target in param.targets]
    every = [(node_id, name) for node_id in ordered_ids(graph) for name in graph[node_id]["inputs"]]
    models: dict[str, ModelSlot] = {}
    for node_id, input_name in [*mapped, *every]:
        value = graph.get(node_id, {}).get("inputs", {}).get(input_name)
        found = model_input(str(graph.get(node_id, {}).get("class_type", "")), input_name)
        if found is not None and isinstance(value, str):
            key, _, folder = found
            models.setdefault(key, ModelSlot(node_id, input_name, folder))
    return models


def _class_types(graph: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({node["class_type"] for node in graph.values()}))


def ordered_ids(graph: dict[str, Any]) -> list[str]:
    """Numeric ids in number order ("3" before "10"), others after, so guesses are stable."""
    return sorted(graph, key=lambda i: (0, int(i), "") if i.isdigit() else (1, 0, i))
