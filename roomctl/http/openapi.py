"""The OpenAPI 3 document, generated from the route table."""

from __future__ import annotations

import re
from typing import Any

from roomctl import __version__
from roomctl.http.routes import Route

ROLE_NOTE = "Roles: {roles}."


def _operation(r: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": r.summary,
        "operationId": r.handler.__name__.removeprefix("handle_"),
        "tags": list(r.tags),
        "description": ROLE_NOTE.format(roles=", ".join(sorted(str(x) for x in r.roles))),
        "x-roles": sorted(str(x) for x in r.roles),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {}}},
            "400": {"description": "malformed or invalid request"},
            "401": {"description": "no session"},
            "403": {"description": "role or code refused"},
            "429": {"description": "rate limited; see Retry-After"},
        },
    }
    params = re.findall(r"\{(\w+)\}", r.path)
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ]
    if r.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": r.body}},
        }
    return op


def document(routes: list[Route]) -> dict[str, Any]:
    """OpenAPI 3.1 for ``routes``."""
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r)
    return {
        "openapi": "3.1.0",
        "info": {"title": "roomctl appliance API", "version": __version__},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "roomctl_session"}
            }
        },
        "paths": paths,
    }
