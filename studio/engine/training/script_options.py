"""``--set`` for every option of the chosen sd-scripts script, checked against that script's own
parser (the probe's option list) rather than a list kept here; and what the plan says when the
Python for sd-scripts cannot run it.

Typed settings (TrainingConfig's fields) keep their own route; any other name must be an option
of the family's script as installed (command.SCRIPTS: train_network.py, sdxl_train_network.py,
flux_train_network.py, sd3_train_network.py). A flag takes true or false (true passes
``--name``, false leaves it out); a value is passed as text and typed by sd-scripts' parser when
it runs, after the choices, the count (nargs) and whole numbers or numbers are checked here.
"""
from __future__ import annotations

import dataclasses
import difflib
import shlex
import shutil
from pathlib import Path

from studio.engine.errors import InvalidInput
from studio.engine.training.checks import Findings
from studio.engine.training.command import SCRIPTS, Launch
from studio.engine.training.config import STUDIO_KEYS, TrainingConfig, field_names
from studio.engine.training.probe import Probe, ScriptOption, probe_sdscripts

Pairs = tuple[tuple[str, tuple[str, ...]], ...]
TRUE, FALSE = ("", "1", "true", "yes", "on"), ("0", "false", "no", "off")
# Options the studio gives itself: a second value would silently win or break the run.
RESERVED = {
    "dataset_config": "the studio writes the training's dataset_config.toml",
    "output_dir": "the studio saves into the training's own folder",
    "output_name": "use --name",
    "save_model_as": "the LoRA library reads .safetensors",
    "network_module": "the studio trains the family's LoRA (networks.lora, lora_flux, lora_sd3)",
    "resume": "use `train resume JOB`",
    "skip_until_initial_step": "resumed runs get it",
    "save_state_on_train_end": "it follows save_state",
    "console_log_simple": "the studio reads sd-scripts' plain log",
    "config_file": "give the settings with --set",
    "output_config": "the studio runs the training",
}
NUMBER_TYPES = {"int": (int, "whole number"), "float": (float, "number")}


def split_overrides(overrides: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """(typed settings, other sd-scripts options), in the order given."""
    known = set(field_names())
    return ({k: v for k, v in overrides.items() if k in known},
            {k: v for k, v in overrides.items() if k not in known})


def probe_for_plan(launch: Launch, family: str, cache_dir: Path) -> Probe | str:
    """The probe's answer, or why it was not asked: the reasons the launch checks already give
    (no folder, no script, no Python), so they are not said twice."""
    if not launch.folder.is_dir() or not (launch.folder / SCRIPTS.get(family, SCRIPTS["sd15"])).is_file():
        return f"the sd-scripts folder {launch.folder} has no {SCRIPTS.get(family, SCRIPTS['sd15'])}"
    if not Path(launch.python).is_file() and shutil.which(launch.python) is None:
        return f"the Python for sd-scripts ({launch.python}) does not exist"
    found = probe_sdscripts(launch, cache_dir)
    assert found is not None  # only cached_only answers None
    return found


def with_extra_options(config: TrainingConfig, values: dict[str, object],
                       probe: Probe | str) -> TrainingConfig:
    """``config`` with the options that are not typed settings, checked against the script's
    parser; unchecked (flags guessed from true/false) when the probe could not ask it. They
    come after the preset's own ``[options]``, and replace one of the same name."""
    if not values:
        return config
    for name in values:
        if name in RESERVED:
            raise InvalidInput(f"'{name}' cannot be set: {RESERVED[name]}.")
    script = SCRIPTS.get(config.family, SCRIPTS["sd15"])
    options = probe.options(script) if isinstance(probe, Probe) else None
    if options is None:
        pairs = _unchecked(values)
    else:
        pairs = tuple(pair for name, raw in values.items()
                      if (pair := _checked(name, raw, options, script)) is not None)
    kept = tuple(pair for pair in config.extra_options if pair[0] not in values)
    return dataclasses.replace(config, extra_options=kept + pairs)


def _checked(name: str, raw: object, options: dict[str, ScriptOption],
             script: str) -> tuple[str, tuple[str, ...]] | None:
    option = options.get(name)
    if option is None:
        known = [*options, *field_names(), *STUDIO_KEYS]
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "."
        raise InvalidInput(f"'{name}' is not an option of sd-scripts' {script}{hint}")
    text = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
    if not option.takes_value:
        on = _flag(name, text)
        return (name, ()) if on else None
    return name, _value_tokens(option, text.strip())


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidInput(f"{name} is a flag of sd-scripts: set it to true or false, not {text!r}.")


def _value_tokens(option: ScriptOption, text: str) -> tuple[str, ...]:
    """The words after ``--name``: one for a single value, split like a shell line for a list."""
    nargs = option.nargs
    try:
        tokens = (text,) if nargs in (None, "?") else tuple(shlex.split(text))
    except ValueError as exc:
        raise InvalidInput(f"{option.name}: {exc} in {text!r}.") from None
    tokens = tuple(t for t in tokens if t)
    if nargs is None and not tokens:
        raise InvalidInput(f"{option.name} takes a value.")
    if nargs == "+" and not tokens:
        raise InvalidInput(f"{option.name} takes at least one value.")
    if isinstance(nargs, int) and len(tokens) != nargs:
        raise InvalidInput(f"{option.name} takes {nargs} values separated by spaces, not {len(tokens)}.")
    for token in tokens:
        _check_token(option, token)
    return tokens


def _check_token(option: ScriptOption, token: str) -> None:
    if option.choices is not None and token not in option.choices:
        raise InvalidInput(f"{option.name} must be one of {', '.join(option.choices)}, not {token!r}.")
    number = NUMBER_TYPES.get(option.type_name or "")
    if number is not None:
        try:
            number[0](token)
        except ValueError:
            raise InvalidInput(f"{option.name} takes a {number[1]}, not {token!r}.") from None


def _unchecked(values: dict[str, object]) -> Pairs:
    """Without the parser: true-like values as flags, false-like left out, the rest one value."""
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for name, raw in values.items():
        text = str(raw).strip()
        if raw is True or text.lower() in TRUE:
            pairs.append((name, ()))
        elif not (raw is False or text.lower() in FALSE):
            pairs.append((name, (text,)))
    return tuple(pairs)


def probe_findings(probe: Probe | str, config: TrainingConfig, unchecked: list[str], found: Findings) -> None:
    """What the plan says about the Python for sd-scripts: a missing module refuses the run, a
    probe that could not answer is a warning, and options set without a check are named."""
    script = SCRIPTS.get(config.family, SCRIPTS["sd15"])
    reason = probe if isinstance(probe, str) else probe.problem(script)
    if isinstance(probe, Probe) and reason:
        module = probe.missing(script)
        if module:
            found.problems.append(_missing_module(probe.python, module, script))
        elif probe.ran:
            found.problems.append(f"sd-scripts' {script} does not load in {probe.python}: {reason}.")
        else:
            found.warnings.append(f"sd-scripts could not be checked before the run: {reason}.")
    if unchecked and reason:
        found.warnings.append(f"--set {', '.join(unchecked)} not checked against {script}'s options: {reason}.")


def _missing_module(python: str, module: str, script: str) -> str:
    return (f"The Python for sd-scripts ({python}) has no module '{module}', which {script} needs: "
            f"{missing_module_fix(module)}, or set sdscripts.python to the Python that has them.")


def missing_module_fix(module: str) -> str:
    """How a creator gets ``module`` into sd-scripts' Python, as sd-scripts' README installs it."""
    if module in ("torch", "torchvision"):
        return "install PyTorch into it (see sd-scripts' README)"
    return "install sd-scripts' requirements into it (pip install -r requirements.txt in its folder)"
