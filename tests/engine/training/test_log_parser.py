"""sd-scripts' console output, split on \\r and \\n, turned into progress and events."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studio.engine.training.log_parser import LineSplitter, LogParser, parse_bar

RECORDED = Path(__file__).with_name("sd_scripts_sampling_run.json")
BAR = "steps:  12%|█▏        | 120/1000 [01:02<07:38,  1.92it/s, avr_loss=0.0812]"


def test_the_bar_from_protocols_parses_every_field() -> None:
    progress = parse_bar(BAR)
    assert progress is not None
    assert (progress.step, progress.total, progress.loss, progress.rate) == (120, 1000, 0.0812, 1.92)
    assert (progress.elapsed_s, progress.eta_s) == (62.0, 458.0)


@pytest.mark.parametrize(("line", "step", "rate", "eta", "loss"), [
    ("steps:   0%|          | 0/1000 [00:00<?, ?it/s]", 0, None, None, None),
    ("steps:  50%|█████     | 500/1000 [1:02:03<1:02:03,  7.45s/it, avr_loss=0.1]", 500, 1 / 7.45, 3723.0, 0.1),
    ("steps:  13%|█▎        | 130/1000 [01:07<07:30,  1.93it/s, Keys Scaled=3, avr_loss=0.0799, Average key norm=0.5]",
     130, 1.93, 450.0, 0.0799),
])
def test_bar_variants(line: str, step: int, rate: float | None, eta: float | None, loss: float | None) -> None:
    progress = parse_bar(line)
    assert progress is not None and progress.step == step and progress.loss == loss
    assert progress.eta_s == eta
    assert progress.rate == pytest.approx(rate) if rate else progress.rate is None


def test_the_splitter_ends_lines_at_cr_and_lf_across_reads() -> None:
    splitter = LineSplitter()
    data = ("running training / 学習開始\n\rsteps:   0%|          | 0/10 [00:00<?, ?it/s]"
            "\rsteps:  10%|█         | 1/10 [00:01<00:09,  1.00it/s, avr_loss=0.5]\nepoch 1/2\r\n").encode()
    lines: list[str] = []
    for i in range(0, len(data), 7):  # reads cut anywhere, even inside a multi-byte character
        lines += splitter.feed(data[i:i + 7])
    lines += splitter.flush()
    assert [line for line in lines if line] == [
        "running training / 学習開始", "steps:   0%|          | 0/10 [00:00<?, ?it/s]",
        "steps:  10%|█         | 1/10 [00:01<00:09,  1.00it/s, avr_loss=0.5]", "epoch 1/2"]


def test_the_bar_still_being_drawn_counts_as_progress() -> None:
    """tqdm redraws with a leading \\r and no newline: the latest bar waits in the carry."""
    splitter, parser = LineSplitter(), LogParser()
    parser.feed_lines(splitter.feed(b"\rsteps:  10%|\xe2\x96\x88         | 1/10 [00:01<00:09,  1.00it/s]"))
    assert parser.progress() is None
    progress = parser.progress(splitter.carry)
    assert progress is not None and progress.step == 1


def test_events_of_a_run() -> None:
    parser = LogParser()
    for line in ["running training / 学習開始", "  num train images * repeats / 学習画像の数×繰り返し回数: 400",
                 "  num epochs / epoch数: 10", "  total optimization steps / 学習ステップ数: 1000",
                 BAR, "epoch 3/10", "saving checkpoint: /out/mia-000002.safetensors",
                 "removing old checkpoint: /out/mia-000001.safetensors", "validation steps:  50%|5/10",
                 "2026-02-16 12:00:00 INFO     model saved.                train_network.py:1200"]:
        parser.feed(line)
    assert (parser.train_images, parser.epochs, parser.total_steps, parser.epoch) == (400, 10, 1000, 3)
    assert parser.drain_saved() == ["/out/mia-000002.safetensors"] and parser.drain_saved() == []
    assert parser.removed == ["/out/mia-000001.safetensors"] and parser.model_saved
    assert not any("validation" in line for line in parser.tail)
    assert parser.progress() is not None and parser.progress().step == 120  # type: ignore[union-attr]


def _bar(step: int, loss: float | None) -> str:
    postfix = f", avr_loss={loss}" if loss is not None else ""
    return f"steps:  {step * 10:2d}%|{'█' * step:<10}| {step}/10 [00:0{step}<00:09,  1.00it/s{postfix}]"


def test_each_step_gets_the_loss_of_its_last_redraw() -> None:
    """sd-scripts redraws on update(1) with the previous step's loss, saves, then redraws with the
    step's own loss; a step is finished when the next one's bar appears or the output ends."""
    splitter, parser = LineSplitter(), LogParser()
    output = ("\r" + _bar(0, None) + "\nepoch 1/2\n"
              + "\r" + _bar(1, None) + "\nsaving checkpoint: /out/mia-step1.safetensors\n\r" + _bar(1, 0.5)
              + "\r" + _bar(2, 0.5) + "\r" + _bar(2, 0.4) + "\nepoch 2/2\n"
              + "\r" + _bar(3, 0.4) + "\r" + _bar(3, 0.3))
    steps = []
    for i in range(0, len(output), 9):  # reads cut anywhere, bars waiting in the carry
        parser.feed_lines(splitter.feed(output[i:i + 9].encode()))
        steps += parser.drain_steps()
    assert [(s.step, s.loss) for s in steps] == [(0, None), (1, 0.5), (2, 0.4)]  # 3 may redraw
    parser.feed_lines(splitter.flush())
    parser.finish()
    steps += parser.drain_steps()
    assert [(s.step, s.loss, s.epoch) for s in steps] == [
        (0, None, None), (1, 0.5, 1), (2, 0.4, 1), (3, 0.3, 2)]
    assert parser.drain_steps() == [] and parser.drain_saved() == ["/out/mia-step1.safetensors"]


def real_sampling_run() -> list[tuple[str, str]]:
    """What real sd-scripts printed for a 4-step run sampling 2 prompts at steps 2 and 4, read by
    read (see the file's ``source``)."""
    data = json.loads(RECORDED.read_text(encoding="utf-8"))
    return [(stream, text) for stream, text in data["chunks"]]


def test_the_sample_phase_of_a_real_run_is_followed_image_by_image() -> None:
    splitter, parser = LineSplitter(), LogParser()
    seen: list[tuple[int | None, int]] = []
    for _, text in real_sampling_run():
        parser.feed_lines(splitter.feed(text.encode()))
        if not seen or seen[-1] != (parser.sample_step, parser.sample_images):
            seen.append((parser.sample_step, parser.sample_images))
    assert seen == [(None, 0), (2, 0), (2, 1), (2, 2), (None, 0), (4, 0), (4, 1), (4, 2), (None, 0)]
    assert not any(re.match(r"\s*\d+%\|", line) for line in parser.tail)  # diffusers' own bars
    assert "prompt: mia, full body" in parser.tail and "seed: 43" in parser.tail
    parser.feed_lines(splitter.flush())
    parser.finish()
    steps = parser.drain_steps()
    assert [(s.step, s.loss) for s in steps] == [(0, None), (1, 1.29), (2, 1.32), (3, 1.33), (4, 1.28)]


def test_a_sampling_interrupts_the_bar_until_it_is_drawn_again() -> None:
    parser = LogParser()
    parser.feed_lines([_bar(2, 0.5), "", "generating sample images at step / サンプル画像生成 ステップ: 2",
                       "prompt: mia at the beach", "negative_prompt: None",
                       "  0%|          | 0/28 [00:00<?, ?it/s]\x1b[A"])
    assert parser.interrupted and (parser.sample_step, parser.sample_images) == (2, 1)
    parser.feed_lines([_bar(2, 0.4)])
    assert not parser.interrupted and parser.sample_step is None
    parser.feed_lines(["saving checkpoint: /out/mia-step2.safetensors"])
    assert parser.interrupted and parser.sample_step is None
    parser.feed_lines(["epoch 2/2"])
    assert not parser.interrupted
