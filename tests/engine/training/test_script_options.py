"""``--set`` takes every option the chosen script's parser has (the probe's list), not a list
kept by the studio; unknown names are refused in one line with the closest known ones."""
from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.checks import Findings
from studio.engine.training.config import TrainingConfig
from studio.engine.training.jobs import submit_training
from studio.engine.training.plan import plan_training
from studio.engine.training.probe import Probe, ScriptOption, ScriptReport
from studio.engine.training.script_options import probe_findings, split_overrides, with_extra_options
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup

OPTIONS = (ScriptOption("lowram", False, 0, const=True), ScriptOption("full_fp16", False, 0, const=True),
           ScriptOption("tokenizer_cache_dir", True, type_name="str"),
           ScriptOption("network_args", True, "*", type_name="str"),
           ScriptOption("max_token_length", True, type_name="int", choices=("150", "225")),
           ScriptOption("noise_offset", True, type_name="float"),
           ScriptOption("output_dir", True, type_name="str"))
PROBE = Probe(python="/venv/bin/python", ran=True, versions={"torch": "2.13.0"},
              scripts={"train_network.py": ScriptReport(options=OPTIONS)})


def extra(**values: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return with_extra_options(TrainingConfig(), values, PROBE).extra_options


def test_flags_values_and_lists_become_the_words_sd_scripts_reads() -> None:
    assert extra(lowram="true", full_fp16="false", tokenizer_cache_dir="/x/tok") == (
        ("lowram", ()), ("tokenizer_cache_dir", ("/x/tok",)))  # false leaves the flag out
    assert extra(network_args='conv_dim=4 "conv_alpha=1"', noise_offset="0.05", max_token_length="225") == (
        ("network_args", ("conv_dim=4", "conv_alpha=1")), ("noise_offset", ("0.05",)),
        ("max_token_length", ("225",)))
    assert extra(lowram=True, network_args="") == (("lowram", ()), ("network_args", ()))


@pytest.mark.parametrize(("values", "message"), [
    ({"lowrm": "1"}, "'lowrm' is not an option of sd-scripts' train_network.py; did you mean lowram?"),
    ({"bogus_thing": "1"}, "'bogus_thing' is not an option of sd-scripts' train_network.py."),
    ({"lowram": "maybe"}, "lowram is a flag of sd-scripts: set it to true or false, not 'maybe'."),
    ({"max_token_length": "100"}, "max_token_length must be one of 150, 225, not '100'."),
    ({"noise_offset": "a lot"}, "noise_offset takes a number, not 'a lot'."),
    ({"tokenizer_cache_dir": " "}, "tokenizer_cache_dir takes a value."),
    ({"output_dir": "/x"}, "'output_dir' cannot be set: the studio saves into the training's own folder."),
])
def test_what_the_parser_would_refuse_is_refused_in_one_line(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        with_extra_options(TrainingConfig(), values, PROBE)
    assert str(caught.value) == message


def test_typed_settings_keep_their_route_and_extras_round_trip_through_a_payload() -> None:
    typed, others = split_overrides({"learning_rate": "1e-4", "lowram": "true", "base_model": "/m"})
    assert (typed, others) == ({"learning_rate": "1e-4", "base_model": "/m"}, {"lowram": "true"})
    config = with_extra_options(TrainingConfig(), {"lowram": "1", "network_args": "a=1 b=2"}, PROBE)
    stored = json.loads(json.dumps(config.to_dict()))
    assert stored["extra_options"] == {"lowram": [], "network_args": ["a=1", "b=2"]}
    assert TrainingConfig.from_dict(stored) == config


def test_without_the_parser_the_options_are_kept_unchecked_and_said_so() -> None:
    missing = Probe(python="/venv/bin/python", ran=True, missing_module="torch")
    config = with_extra_options(TrainingConfig(), {"lowram": "true", "full_fp16": "no", "lowrm": "x"}, missing)
    assert config.extra_options == (("lowram", ()), ("lowrm", ("x",)))
    found = Findings()
    probe_findings(missing, config, ["lowram", "full_fp16", "lowrm"], found)
    assert found.problems == ["The Python for sd-scripts (/venv/bin/python) has no module 'torch', which "
                              "train_network.py needs: install PyTorch into it (see sd-scripts' README), or "
                              "set sdscripts.python to the Python that has them."]
    assert found.warnings == ["--set lowram, full_fp16, lowrm not checked against train_network.py's options: "
                              "the Python for sd-scripts (/venv/bin/python) has no module 'torch'."]


def test_a_probe_that_could_not_run_is_a_warning_not_a_refusal() -> None:
    found = Findings()
    late = Probe(python="/venv/bin/python", ran=False, reason="the Python for sd-scripts (/venv/bin/python) "
                                                              "did not answer within 120 s")
    probe_findings(late, TrainingConfig(), [], found)
    assert found.problems == [] and found.warnings == [
        "sd-scripts could not be checked before the run: the Python for sd-scripts (/venv/bin/python) did not "
        "answer within 120 s."]


# Through the plan (train --dry-run) and a real run of the fake sd-scripts -----------------------

def test_the_options_of_the_real_issue_reach_the_command_line(setup: Setup) -> None:
    request = setup.request(lowram="true", tokenizer_cache_dir="/x", full_fp16="true", highvram="false")
    plan = plan_training(setup.studio, setup.workspace_id, request)
    argv = plan.argv
    assert "--lowram" in argv and "--full_fp16" in argv and "--highvram" not in argv
    assert argv[argv.index("--tokenizer_cache_dir") + 1] == "/x"
    assert plan.findings.problems == []
    with pytest.raises(InvalidInput, match=r"^'lowrm' is not an option of sd-scripts' train_network.py; "
                                           r"did you mean lowram"):
        plan_training(setup.studio, setup.workspace_id, setup.request(lowrm="true"))
    sdxl = setup.request("sdxl-fast-test", cache_text_encoder_outputs="true", network_train_unet_only="true",
                         shuffle_caption="false")
    assert "--cache_text_encoder_outputs" in plan_training(setup.studio, setup.workspace_id, sdxl).argv


def test_a_run_passes_them_to_sd_scripts(setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv_file = tmp_path / "argv.json"
    monkeypatch.setenv("FAKE_SD_SCRIPTS_ARGV_FILE", str(argv_file))
    job = submit_training(setup.studio, setup.workspace_id, setup.request(lowram="true", tokenizer_cache_dir="/x"))
    assert job.payload["config"]["extra_options"] == {"lowram": [], "tokenizer_cache_dir": ["/x"]}
    setup.run_next()
    assert setup.job(job.id).status == "completed", setup.job(job.id).error
    argv = json.loads(argv_file.read_text())
    assert "--lowram" in argv and argv[argv.index("--tokenizer_cache_dir") + 1] == "/x"


def test_the_dry_run_names_a_module_missing_in_sd_scripts_python(setup: Setup, tmp_path: Path) -> None:
    folder = tmp_path / "sd-scripts"
    shutil.copytree(FAKE_SD_SCRIPTS, folder, ignore=shutil.ignore_patterns("__pycache__", "accelerate"))
    request = replace(setup.request(lowram="true"), sd_scripts=str(folder))
    plan = plan_training(setup.studio, setup.workspace_id, request)
    assert plan.findings.problems == [
        f"The Python for sd-scripts ({sys.executable}) has no module 'accelerate', which train_network.py needs: "
        "install sd-scripts' requirements into it (pip install -r requirements.txt in its folder), or set "
        "sdscripts.python to the Python that has them."]
    assert "--lowram" in plan.argv  # shown as it would run, and said to be unchecked
    assert any(w.startswith("--set lowram not checked against train_network.py's options") for w in
               plan.findings.warnings)
    with pytest.raises(InvalidInput, match="has no module 'accelerate'"):
        submit_training(setup.studio, setup.workspace_id, plan.request)
