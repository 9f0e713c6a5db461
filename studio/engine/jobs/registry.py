"""Job types: which queue carries each, which function runs it, and its payload and result classes."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from studio.engine.errors import InvalidInput

if TYPE_CHECKING:
    from studio.engine.jobs.context import JobContext

P = TypeVar("P")
R = TypeVar("R")
Handler = Callable[["JobContext", Any], Any]

# Modules that register job types; the worker imports them all before it consumes.
HANDLER_MODULES = ("studio.engine.media.thumbnails", "studio.engine.datasets.autocaption",
                   "studio.engine.datasets.jobs", "studio.engine.comfyui.generation",
                   "studio.engine.comfyui.local", "studio.engine.pipelines.run",
                   "studio.engine.media.jobs", "studio.engine.training.jobs",
                   "studio.engine.training.grid", "studio.engine.plans.jobs",
                   "studio.engine.sync.jobs", "studio.engine.publish.service")


@dataclass(frozen=True, slots=True)
class JobType:
    name: str
    queue: str
    handler: Handler
    payload: type  # the frozen dataclass the handler takes (studio.engine.jobs.payloads)
    result: type  # the frozen dataclass it returns, stored on the job row as JSON
    uses_gpu: bool = False
    # Its handler pays for calls (an LLM): after its process died mid-run it is not re-run
    # silently (jobs/recovery.py), as it may have paid for answers that died with the process.
    paid_calls: bool = False


_types: dict[str, JobType] = {}


def job_type(name: str, *, queue: str, payload: type[P], result: type[R], uses_gpu: bool = False,
             paid_calls: bool = False) -> Callable[[Callable[[JobContext, P], R]],
                                                   Callable[[JobContext, P], R]]:
    """Registers ``handler(ctx, payload) -> result`` as the job type ``name``."""
    def register(handler: Callable[[JobContext, P], R]) -> Callable[[JobContext, P], R]:
        _types[name] = JobType(name=name, queue=queue, handler=handler, payload=payload,
                               result=result, uses_gpu=uses_gpu, paid_calls=paid_calls)
        return handler
    return register


def load_handlers() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def get_type(name: str) -> JobType:
    if name not in _types:  # asked for every job: the modules are imported once, not each time
        load_handlers()
    try:
        return _types[name]
    except KeyError:
        raise InvalidInput(f"Unknown job type '{name}'. Known: {', '.join(sorted(_types))}.") from None


def known_types() -> list[str]:
    load_handlers()
    return sorted(_types)


def all_types() -> list[JobType]:
    load_handlers()
    return [_types[name] for name in sorted(_types)]
