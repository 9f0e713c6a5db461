"""What every route depends on: the studio the server opened, and the caller its token names.

A request without a valid token gets 401 and nothing else; a read-only token gets 403 on a
write. Another workspace's resource is not found (404) through the workspace's Repository."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from studio.engine.api.tokens import Caller, verify_token
from studio.engine.core import Studio

_bearer = HTTPBearer(auto_error=False, description="A token from `influencerai-studio api token create`.")


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    found = None if credentials is None else verify_token(studio_of(request).db, credentials.credentials)
    if found is None:
        raise HTTPException(status_code=401, detail="A valid API token is needed (Authorization: Bearer …).",
                            headers={"WWW-Authenticate": "Bearer"})
    request.state.caller = found
    return found


def writer(who: Annotated[Caller, Depends(caller)]) -> Caller:
    if who.read_only:
        raise HTTPException(status_code=403, detail=f"The token '{who.token_name}' is read-only.")
    return who


StudioDep = Annotated[Studio, Depends(studio_of)]
Reader = Annotated[Caller, Depends(caller)]
Writer = Annotated[Caller, Depends(writer)]
