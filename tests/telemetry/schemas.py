"""Validate payloads against the shipped JSON Schemas (with ``defs.json`` resolvable)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from roomctl.telemetry import schemas


@cache
def _registry() -> Registry:
    resources = [
        (schemas.BASE_URI + f"{name}.json", Resource.from_contents(schemas.load(name)))
        for name in schemas.NAMES
    ]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator of schema ``name``."""
    schema = schemas.load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def validate(name: str, payload: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Parse (if needed) and validate one message; returns the parsed body."""
    body = json.loads(payload) if isinstance(payload, bytes | str) else payload
    validator(name).validate(body)
    return body


def kind_of(topic: str) -> str:
    """Which schema a device topic's messages follow."""
    tail = topic.split("/", 4)[4]
    if tail.startswith("evt/"):
        return "event"
    if tail.startswith("cmd/"):
        return "cmd"
    return tail
