"""Asks an sd-scripts checkout, in the Python that will run it, what it needs and accepts.

Run by InfluencerAI Studio as ``PYTHON sdscripts_probe.py FOLDER SCRIPT [SCRIPT...]`` (no shell).
It imports torch and accelerate, then each training script as a module with FOLDER on sys.path,
calls the script's own ``setup_parser()`` and prints one JSON line last on stdout: the versions,
the first module that is missing, and every option each script's parser accepts (its name,
whether it takes a value, nargs, choices and type). Only the standard library is used here, so
it runs in any Python 3.
"""
import argparse
import contextlib
import importlib
import json
import os
import sys
import sysconfig
import traceback


def missing_name(exc: ImportError) -> str:
    return exc.name or str(exc)


def version_of(name: str, found: dict) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        found.setdefault("missing_module", missing_name(exc))
        return
    except Exception as exc:  # a broken install, e.g. a CUDA build on a machine without it
        found.setdefault("error", f"importing {name}: {type(exc).__name__}: {exc}")
        return
    found["versions"][name] = str(getattr(module, "__version__", "unknown"))


def describe(action: argparse.Action) -> dict:
    names = [s for s in action.option_strings if s.startswith("--")]
    choices = action.choices
    return {
        "name": names[0][2:],
        "dest": action.dest,
        "takes_value": action.nargs != 0,
        "nargs": action.nargs,
        "choices": None if choices is None else [c if c is None or isinstance(c, (str, int, float))
                                                 else str(c) for c in choices],
        "type": getattr(action.type, "__name__", None) if action.type is not None else None,
        "const": action.const if isinstance(action.const, (bool, str, int, float)) else None,
    }


def options_of(script: str) -> dict:
    module_name = script[:-3] if script.endswith(".py") else script
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return {"missing_module": missing_name(exc)}
    except BaseException as exc:  # whatever the import does, the probe reports it
        return {"error": f"importing {script}: {type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=-3)}
    setup = getattr(module, "setup_parser", None)
    if not callable(setup):
        return {"error": f"{script} has no setup_parser()"}
    parser = setup()
    options = [describe(a) for a in parser._actions
               if any(s.startswith("--") for s in a.option_strings)
               and not isinstance(a, argparse._HelpAction)]
    return {"options": options}


def probe(folder: str, scripts: list) -> dict:
    found = {"python": sys.executable, "python_version": sys.version.split()[0], "versions": {},
             "site_dirs": sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}),
             "scripts": {}}
    # As when a script runs: its folder first on sys.path, and the working folder (some of
    # sd-scripts' modules read files relative to it).
    sys.path.insert(0, folder)
    os.chdir(folder)
    for name in ("torch", "accelerate"):
        version_of(name, found)
    if "missing_module" in found or "error" in found:
        return found
    for script in scripts:
        found["scripts"][script] = options_of(script)
    return found


def main() -> None:
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # whatever the imports print stays off the answer
        result = probe(sys.argv[1], sys.argv[2:])
    out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
