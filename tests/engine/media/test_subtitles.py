"""SubRip in and out, cues from a caption, the style and the escaping of the filter."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.media.presets import load_presets
from studio.engine.media.subtitles import (
    Cue,
    SubtitleStyle,
    compose_srt,
    cues_from_caption,
    escape_graph,
    escape_option,
    force_style,
    parse_srt,
    read_srt,
    subtitles_filter,
    write_srt,
)

SRT = "1\n00:00:00,500 --> 00:00:02,000\nHello, wörld\n\n2\n00:00:02,000 --> 00:00:03,250\nSecond\nline\n"


def test_read_write_round_trip(tmp_path: Path) -> None:
    cues = parse_srt(SRT)
    assert cues == [Cue(0.5, 2.0, "Hello, wörld"), Cue(2.0, 3.25, "Second\nline")]
    path = write_srt(cues, tmp_path / "out.srt")
    assert read_srt(path) == cues
    assert compose_srt(cues).startswith("1\n00:00:00,500 --> 00:00:02,000\n")


def test_bad_cues_are_named() -> None:
    with pytest.raises(InvalidInput, match="Subtitle 2 must end after it starts"):
        compose_srt([Cue(0, 1, "a"), Cue(2, 1.5, "b")])
    with pytest.raises(InvalidInput, match="Subtitle 1 has no text"):
        compose_srt([Cue(0, 1, "  ")])
    with pytest.raises(InvalidInput, match="is not a valid .srt file"):
        parse_srt("1\nno times here\n")


def test_cues_from_a_caption_fill_the_clip_in_order() -> None:
    caption = ("Golden hour in Lisbon never gets old. Who else is chasing sunsets this week? "
               "#travel #lisbon")
    cues = cues_from_caption(caption, 6.0, max_chars=24)
    assert cues[0].start_s == 0 and cues[-1].end_s == pytest.approx(6.0, abs=0.01)
    assert all(a.end_s == pytest.approx(b.start_s, abs=0.01) for a, b in itertools.pairwise(cues))
    assert all(len(c.text) <= 24 for c in cues) and "#travel" not in " ".join(c.text for c in cues)
    assert " ".join(c.text for c in cues).startswith("Golden hour in Lisbon")
    short = cues_from_caption(caption, 1.6)  # too short for every line: neighbours merge
    assert len(short) == 2 and all(c.end_s - c.start_s >= 0.79 for c in short)
    with pytest.raises(InvalidInput, match="no words"):
        cues_from_caption("#only #tags", 3.0)


def test_style_sits_inside_the_safe_area() -> None:
    reel = load_presets()["instagram-reel"]
    style = force_style(SubtitleStyle(size_px=70, color="#FFCC00"), reel)
    fields = dict(item.split("=", 1) for item in style.split(","))
    assert fields["PlayResX"] == "1080" and fields["PlayResY"] == "1920"
    assert fields["FontSize"] == "70" and fields["Alignment"] == "2"
    assert int(fields["MarginV"]) >= reel.safe_area.bottom * 1920
    assert int(fields["MarginR"]) >= reel.safe_area.right * 1080
    assert fields["PrimaryColour"] == "&H0000CCFF"  # ASS is blue-green-red
    top = dict(i.split("=", 1) for i in force_style(SubtitleStyle(position="top"), reel).split(","))
    assert top["Alignment"] == "8" and int(top["MarginV"]) >= reel.safe_area.top * 1920
    with pytest.raises(InvalidInput, match="not a colour"):
        force_style(SubtitleStyle(color="yellow"), reel)


def test_two_levels_of_escaping() -> None:
    assert escape_option("a:b'c\\d") == "a\\:b\\'c\\\\d"
    assert escape_graph("a,b;c[d]e'f\\") == "a\\,b\\;c\\[d\\]e\\'f\\\\"
    text = subtitles_filter(Path("/x/it's: a, [b].srt"), SubtitleStyle(), load_presets()["tiktok"])
    assert text.startswith("subtitles=filename=/x/it\\\\\\'s\\\\: a\\, \\[b\\].srt:force_style=")
    assert "," not in text.replace("\\,", "")  # no bare comma splits the filter graph
