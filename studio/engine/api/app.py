"""The FastAPI application over one opened studio: every route module's router, the studio's
errors as HTTP answers (NotFound 404, InvalidInput 422, Conflict 409, ServiceUnavailable 503,
any other StudioError 400; their text cleaned of machine paths), the limits of limits.py, the
OpenAPI document at /openapi.json and docs at /docs."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from studio.engine.api import (
    routes_datasets,
    routes_events,
    routes_generations,
    routes_influencers,
    routes_jobs,
    routes_plans,
    routes_publish,
    routes_spend,
    routes_trainings,
    routes_videos,
    routes_webhooks,
)
from studio.engine.api.limits import Limits, RateWindow
from studio.engine.api.sanitize import clean_text
from studio.engine.api.schemas import COMMON_ERRORS
from studio.engine.core import Studio
from studio.engine.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable, StudioError

ROUTE_MODULES = (routes_influencers, routes_datasets, routes_trainings, routes_generations,
                 routes_videos, routes_plans, routes_jobs, routes_spend, routes_events,
                 routes_webhooks, routes_publish)
_STATUS = ((NotFound, 404), (InvalidInput, 422), (Conflict, 409), (ServiceUnavailable, 503))


def create_app(studio: Studio) -> FastAPI:
    from studio import __version__

    app = FastAPI(title="InfluencerAI Studio API", version=__version__,
                  description="The studio's CLI verbs over HTTP. Every request carries "
                              "`Authorization: Bearer <token>` (`influencerai-studio api token create`).")
    app.state.studio = studio
    for module in ROUTE_MODULES:
        app.include_router(module.router, responses=COMMON_ERRORS)
    api = studio.settings.api
    app.add_middleware(Limits, window=RateWindow(max(1, api.requests_per_minute)),
                       max_body=max(1, api.max_body_mb) * 1024 * 1024)
    app.add_exception_handler(StudioError, _studio_error)  # type: ignore[arg-type]
    return app


async def _studio_error(request: Request, exc: StudioError) -> JSONResponse:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    studio: Studio = request.app.state.studio
    return JSONResponse(status_code=status, content={"detail": clean_text(str(exc), studio.paths.data_dir)})
