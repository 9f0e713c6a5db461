"""The preferences table: every setting gets a row, derived from the settings dataclasses and the
engine's checks; one the table does not describe still shows up, under Advanced."""
from __future__ import annotations

from studio.engine.config import Settings
from studio.engine.settings_checks import BOUNDS
from studio.ui.pages.settings_fields import (
    ADVANCED,
    GROUPS,
    TABLE,
    Kind,
    field_specs,
    problem_with,
    relation_problems,
)


def test_every_setting_has_one_spec_in_a_known_group() -> None:
    specs = field_specs()
    assert sorted(s.key for s in specs) == sorted(Settings().keys())
    assert {s.group for s in specs} == set(GROUPS)
    assert [GROUPS.index(s.group) for s in specs] == sorted(GROUPS.index(s.group) for s in specs)
    assert set(TABLE) <= set(Settings().keys())  # no row for a setting that is gone


def test_kinds_and_ranges_come_from_the_dataclasses_and_checks() -> None:
    specs = {s.key: s for s in field_specs()}
    assert specs["comfyui.autostart"].kind is Kind.CHECK
    assert specs["ui.theme"].kind is Kind.CHOICE and specs["ui.theme"].choices == ("system", "dark", "light")
    port = specs["comfyui.port"]
    assert port.kind is Kind.INT and (port.low, port.high) == (1, 65_535)
    beat = specs["worker.heartbeat_interval_s"]
    assert beat.kind is Kind.FLOAT and beat.low_excluded and beat.unit == " s" and beat.group == ADVANCED
    assert beat.range_text == "Must be above 0 and at most 600 s."
    assert all(specs[key].low == low for key, (low, _, _) in BOUNDS.items())


def test_a_setting_the_table_lacks_still_appears_under_advanced() -> None:
    table = {key: meta for key, meta in TABLE.items() if key not in ("comfyui.port", "pipeline.publish_dir")}
    specs = {s.key: s for s in field_specs(table)}
    port, publish = specs["comfyui.port"], specs["pipeline.publish_dir"]
    assert port.group == ADVANCED and port.kind is Kind.INT and port.high == 65_535
    assert port.label == "Port" and "comfyui.port" in port.description
    assert publish.kind is Kind.FOLDER  # a *_dir name gets Browse even undescribed
    assert list(specs)[-2:] == ["comfyui.port", "pipeline.publish_dir"]


def test_problems_are_the_engines_reasons_read_beside_the_field() -> None:
    assert problem_with("comfyui.url", "http://gpu-box:8188") == ""
    assert problem_with("queue.video_workers", 0) == "Must be at least 1 and at most 64, not 0."
    assert problem_with("pipeline.daily_at", "9h") == "Is a time like 09:30, not '9h'."
    assert "comfyui.url" not in problem_with("comfyui.url", "gpu-box")


def test_relations_name_the_field_to_fix() -> None:
    beat = "worker.heartbeat_interval_s"
    gone = "worker.heartbeat_timeout_s"
    assert relation_problems({beat: 5.0, gone: 30.0}) == {}
    assert relation_problems({beat: 5.0, gone: 9.0}) == {
        gone: "Must be at least twice the heartbeat (5 s), or busy workers look gone."}
    assert relation_problems({beat: "x", gone: 1.0}) == {}  # a value refused alone is named alone
