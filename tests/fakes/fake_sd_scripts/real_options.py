"""The real scripts' parsers, rebuilt from ../data/sd_scripts_options.json (every option of
sd-scripts' flux_train_network.py and sd3_train_network.py as their own ``setup_parser()``
builds it, extracted by ../sd_scripts_options_extract.py with the commit noted there), so the
FLUX.1 and SD 3.5 stand-ins accept exactly the options the real ones do: a misspelt or missing
option fails here as it would there ("unrecognized arguments"), with argparse's own exit 2.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

# A link to ../data/sd_scripts_options.json, so a copy of this folder (shutil.copytree follows
# links) carries the extract with it.
EXTRACT = Path(__file__).parent / "sd_scripts_options.json"
TYPES = {"int": int, "float": float, "str": str, "Path": Path, "int_or_float": float}
# The real defaults the stand-in reads when the studio does not pass the option.
DEFAULTS = {"max_train_steps": 1600, "network_alpha": 1.0, "mixed_precision": "no",
            "sample_sampler": "ddim", "max_data_loader_n_workers": 8, "caption_extension": ".caption"}


def real_parser(script: str) -> argparse.ArgumentParser:
    options = json.loads(EXTRACT.read_text(encoding="utf-8"))["scripts"][script]
    parser = argparse.ArgumentParser(prog=script)
    for option in options:
        name = option["name"]
        if not option["takes_value"]:
            parser.add_argument(f"--{name}", action="store_true")
            continue
        kwargs: dict = {"default": DEFAULTS.get(name), "type": TYPES.get(option["type"] or "str", str)}
        if option["nargs"] is not None:
            kwargs["nargs"] = option["nargs"]
        if option["choices"] is not None:
            kwargs["choices"] = [c for c in option["choices"] if c is not None]
            kwargs["type"] = str if option["type"] is None else kwargs["type"]
        parser.add_argument(f"--{name}", **kwargs)
    return parser
