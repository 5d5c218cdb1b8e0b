"""Security headers, bounded bodies, and errors as clear 4xx pages: never a traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

import jsonschema
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from roomctl.core import jsonin
from roomctl.core.errors import PairingError, PermissionDenied, RateLimited, RoomctlError

logger = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "display-capture=(self), camera=(self), microphone=(self)",
}


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def error_response(request: web.Request, status: int, reason: str, message: str) -> web.Response:
    """A JSON error for the API, an HTML page for people."""
    if _wants_json(request):
        return web.json_response({"error": reason, "message": message}, status=status)
    from roomctl.http.pages import render_error  # pages import this module

    return render_error(request, status, reason)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Map every failure to a clear 4xx (or a bare 500 with no details)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.status == 101:
            raise
        reason = exc.reason.lower().replace(" ", "_") if exc.reason else str(exc.status)
        resp = error_response(request, exc.status, reason, exc.text or exc.reason or "")
        for name in ("Retry-After", "WWW-Authenticate", "Allow"):
            if name in exc.headers:
                resp.headers[name] = exc.headers[name]
        return resp
    except RateLimited as err:
        resp = error_response(request, 429, "rate_limited", str(err))
        resp.headers["Retry-After"] = str(max(1, round(err.retry_after_s)))
        return resp
    except PairingError as err:
        return error_response(request, 403, err.reason, str(err))
    except PermissionDenied as err:
        return error_response(request, 403, "forbidden", str(err))
    except RoomctlError as err:
        return error_response(request, 409, type(err).__name__, str(err))
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, 500, "internal_error", "internal error")


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Add the security headers to every response; name no versions in ``Server``."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = "roomctl"
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def json_body(request: web.Request, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's JSON object, validated; 400 with the reason otherwise."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="json_required")
    raw = await request.read()
    try:
        data = jsonin.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):  # jsonin.TooDeep too: deep nesting is hostile
        raise web.HTTPBadRequest(
            reason="malformed_json", text="the body is not valid JSON"
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(reason="malformed_json", text="expected a JSON object")
    if schema is not None:
        validate(data, schema)
    return data


_VALIDATORS: dict[int, jsonschema.Draft202012Validator] = {}


def validate(data: Any, schema: dict[str, Any]) -> None:
    """400 when ``data`` does not match ``schema``, naming where."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise web.HTTPBadRequest(reason="invalid_request", text=f"{where}: {error.message}")


class MalformedRequestFilter(logging.Filter):
    """Turn aiohttp's ERROR + traceback for an unparsable request into one short line.

    aiohttp already answers such a request with a 400; the traceback only fills the journal
    (a scanner can send thousands). Within ``window_s`` only the first is logged; the next line
    after the window says how many more there were.
    """

    def __init__(self, window_s: float = 60.0) -> None:
        super().__init__()
        self.window_s = window_s
        self._since = -window_s
        self._skipped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """False to drop the record; True (rewritten) to keep it."""
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        if record.created - self._since < self.window_s:
            self._skipped += 1
            return False
        more = f" (and {self._skipped} more in the last minute)" if self._skipped else ""
        self._since, self._skipped = record.created, 0
        # What kind of problem, never the bytes that caused it: a damaged request line or
        # header can carry a QR token or a session cookie.
        text = str(exc.message).strip().splitlines()[0] if exc.message else ""
        first = re.split(r"[:'\"]", text, maxsplit=1)[0].strip() or type(exc).__name__
        record.msg, record.args = (
            "refused a malformed HTTP request (%s: %s)%s",
            (exc.code, first[:120], more),
        )
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


def quiet_malformed_requests() -> None:
    """Install ``MalformedRequestFilter`` on aiohttp's server logger (once)."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server.filters):
        server.addFilter(MalformedRequestFilter())
