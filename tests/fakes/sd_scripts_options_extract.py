"""Writes data/sd_scripts_options.json: every option the real sd-scripts training scripts' parsers
accept, as their own ``setup_parser()`` builds them (add_argument calls spread over
train_network.py, library/train_util.py, flux_train_utils.py, sd3_train_utils.py, …).

Run by hand against a real checkout, in a Python that can import it (torch, accelerate):

    python tests/fakes/sd_scripts_options_extract.py SD_SCRIPTS_FOLDER PYTHON COMMIT

It runs the studio's own probe (resources/probes/sdscripts_probe.py) in PYTHON, as the studio
does, and keeps per script each option's name, whether it takes a value, nargs, choices and
type. The fake flux_train_network.py / sd3_train_network.py build their parsers from this file,
and tests check each preset's command against it. No test runs this script.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
PROBE = HERE.parent.parent / "resources" / "probes" / "sdscripts_probe.py"
OUT = HERE / "data" / "sd_scripts_options.json"
SCRIPTS = ("train_network.py", "sdxl_train_network.py", "flux_train_network.py", "sd3_train_network.py")
KEPT = ("name", "takes_value", "nargs", "choices", "type")


def extract(folder: str, python: str) -> dict[str, list[dict[str, object]]]:
    done = subprocess.run([python, str(PROBE), folder, *SCRIPTS], cwd=folder, capture_output=True,
                          text=True, check=True, timeout=600)
    raw = json.loads(done.stdout.splitlines()[-1])
    return {script: [{k: option[k] for k in KEPT} for option in raw["scripts"][script]["options"]]
            for script in SCRIPTS}


def main() -> None:
    folder, python, commit = sys.argv[1:4]
    scripts = extract(folder, python)
    lines = ['{', '  "source": "github.com/kohya-ss/sd-scripts (main)",',
             f'  "commit": {json.dumps(commit)},', '  "scripts": {']
    for index, (script, options) in enumerate(scripts.items()):
        rows = ",\n".join(f"      {json.dumps(option, sort_keys=True)}" for option in options)
        tail = "," if index < len(scripts) - 1 else ""
        lines.append(f'    {json.dumps(script)}: [\n{rows}\n    ]{tail}')
    lines += ["  }", "}"]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
