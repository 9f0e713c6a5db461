"""The training log as the Training page shows it: progress redraws folded, terminal codes gone."""
from __future__ import annotations

from pathlib import Path

from studio.ui.models.training_data import log_tail


def test_the_log_tail_has_no_terminal_codes_and_one_line_per_bar(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"loading model\n"
                    b"steps:  10%|\xe2\x96\x88 | 1/10 [00:01<00:09, 1.00it/s]\r"
                    b"\x1b[A\x1b[Asteps:  20%|\xe2\x96\x88\xe2\x96\x88 | 2/10 [00:02<00:08, 1.00it/s, loss=0.1]\n"
                    b"\x1b[2Kgenerating sample images\x07\n")
    assert log_tail(log) == ["loading model",
                             "steps:  20%|\u2588\u2588 | 2/10 [00:02<00:08, 1.00it/s, loss=0.1]",
                             "generating sample images"]
