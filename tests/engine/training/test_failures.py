"""A failed training's headline names the trainer's own exception, not accelerate's wrapper."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.training.failures import explain, headline, trainer_lines

# Real: train_network.py under `accelerate launch` with a 1000-byte random "checkpoint"
# (kohya sd-scripts main 48d368fa, accelerate 1.6.0, CPU); accelerate exited 1.
BROKEN = Path(__file__).with_name("sd_scripts_broken_checkpoint.txt").read_text(encoding="utf-8").splitlines()
LAUNCHER = [
    "Traceback (most recent call last):",
    '  File "/venv/bin/accelerate", line 8, in <module>',
    "    sys.exit(main())",
    '  File "/venv/lib/python3.11/site-packages/accelerate/commands/launch.py", line 795, in simple_launcher',
    "    raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)",
]


def under_accelerate(trainer: list[str], status: str = "returned non-zero exit status 1.") -> list[str]:
    return [*trainer, *LAUNCHER, "subprocess.CalledProcessError: Command '['/venv/bin/python3.11', "
            f"'/sd-scripts/train_network.py', '--lr_scheduler', 'adafactor']' {status}"]


def test_a_broken_checkpoint_is_named_by_safetensors_error() -> None:
    text = explain(1, BROKEN)
    head, _, rest = text.partition("\n")
    assert head == "sd-scripts failed: SafetensorError: Error while deserializing header: HeaderTooLarge"
    assert rest.splitlines()[-1] == "safetensors_rust.SafetensorError: Error while deserializing header: HeaderTooLarge"
    assert "CalledProcessError" not in rest and "accelerate" not in rest  # the launcher's lines left out


def test_an_assertion_under_accelerate_is_a_refused_setting_in_english() -> None:
    tail = under_accelerate(["Traceback (most recent call last):",
                             '  File "/sd-scripts/library/train_util.py", line 5315, in get_scheduler_fix',
                             "    type(optimizer) == transformers.optimization.Adafactor",
                             "AssertionError: adafactor scheduler must be used with Adafactor optimizer / "
                             "adafactor schedulerはAdafactorオプティマイザと同時に使ってください"])
    assert headline(1, tail) == ("sd-scripts refused the settings: adafactor scheduler must be used "
                                 "with Adafactor optimizer")


@pytest.mark.parametrize(("trainer", "status", "expected"), [
    (["usage: train_network.py [-h] [--console_log_simple]",
      "train_network.py: error: unrecognized arguments: --no_such_option"], "returned non-zero exit status 2.",
     "sd-scripts refused its command line: unrecognized arguments: --no_such_option"),
    (["steps:  50%|█████     | 2/4 [00:23<00:23, 11.50s/it, avr_loss=1.29]"], "died with <Signals.SIGKILL: 9>.",
     "sd-scripts was killed by signal 9 (the system may have run out of memory)."),
    (["steps:  50%|█████     | 2/4 [00:23<00:23, 11.50s/it, avr_loss=1.29]"], "returned non-zero exit status 3.",
     "sd-scripts stopped with exit code 3."),
])
def test_the_trainers_own_status_is_read_from_accelerate(trainer: list[str], status: str, expected: str) -> None:
    assert headline(1, under_accelerate(trainer, status)) == expected


def test_known_causes_keep_their_friendly_headlines_under_accelerate() -> None:
    oom = under_accelerate(["Traceback (most recent call last):", "torch.OutOfMemoryError: CUDA out of memory."])
    assert headline(1, oom).startswith("CUDA ran out of GPU memory")
    missing = under_accelerate(["Traceback (most recent call last):",
                                "ModuleNotFoundError: No module named 'diffusers'"])
    assert headline(1, missing).startswith("sd-scripts is missing the Python module 'diffusers'")


def test_a_module_named_in_an_earlier_log_line_is_not_the_reason() -> None:
    """bitsandbytes logs a missing optional module at start; the failure was something else."""
    tail = under_accelerate([
        "Failed to load CPU gemm_4bit_forward from kernels-community: No module named 'kernels'. Please make sure "
        "you already `pip install kernels` and the kernels >= 0.11.1",
        "Traceback (most recent call last):",
        "ValueError: constant does not require `num_warmup_steps`. Set None or 0."])
    assert headline(1, tail) == ("sd-scripts failed: ValueError: constant does not require `num_warmup_steps`. "
                                 "Set None or 0.")


def test_a_long_message_is_cut_to_one_line() -> None:
    text = headline(1, ["Traceback (most recent call last):", "RuntimeError: " + "x " * 400])
    assert len(text) < 300 and text.endswith("…") and "\n" not in text


def test_without_accelerate_the_tail_is_left_whole() -> None:
    lines = ["Traceback (most recent call last):", "KeyError: 'state_dict'"]
    assert trainer_lines(lines) == lines
    assert headline(1, lines) == "sd-scripts failed: KeyError: 'state_dict'"
