"""Alpaca's published OpenAPI specifications, and the operations the sandbox serves.

The specifications are read from the installed ``alpaca-mcp-server`` package (MIT), which
bundles both as JSON; they are not copied into this repository. ``jsonschema`` validates a
response body against the schema the specification gives for its status code. Only the
conformance tools import this module (``jsonschema`` is a development dependency).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

__all__ = [
    "OUT_OF_SCOPE",
    "SPEC_PACKAGE",
    "Operation",
    "SpecUnavailableError",
    "in_scope_operations",
    "load_specs",
    "response_errors",
]

SPEC_PACKAGE = "alpaca_mcp_server"
_FILES = {"trading": "trading-api.json", "market-data": "market-data-api.json"}

# Path prefixes of what the sandbox does not serve: options, locates, crypto wallets and
# transfers, tokenization, fixed income, forex, logos and the server-sent event streams.
OUT_OF_SCOPE = (
    "/v1/locates",
    "/v2beta1/events",
    "/v1beta1/events",
    "/v2/options",
    "/v2/positions/{symbol_or_contract_id}/",
    "/v2/tokenization",
    "/v2/wallets",
    "/v1beta1/fixed_income",
    "/v1beta1/forex",
    "/v1beta1/logos",
    "/v1beta1/options",
)
_METHODS = ("get", "post", "put", "patch", "delete")


class SpecUnavailableError(RuntimeError):
    """The specifications are not installed (``pip install --no-deps alpaca-mcp-server``)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a specification: which API, its method, path template and id."""

    api: str
    method: str
    path: str
    operation_id: str


def load_specs() -> dict[str, dict[str, Any]]:
    """Both specifications, by API name (``trading``, ``market-data``)."""
    try:
        folder = resources.files(SPEC_PACKAGE) / "specs"
        specs = {api: json.loads((folder / name).read_text()) for api, name in _FILES.items()}
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise SpecUnavailableError(
            f"Alpaca's OpenAPI specifications are read from the {SPEC_PACKAGE!r} package "
            f"({exc}): pip install --no-deps alpaca-mcp-server"
        ) from None
    _correct(specs)
    return specs


def _correct(specs: dict[str, dict[str, Any]]) -> None:
    """Where the specification contradicts what Alpaca sends and its own clients parse
    (each case is listed in docs/sandbox.md)."""
    # A FILL activity is a TradingActivities; NonTradeActivities requires no field and
    # forbids none, so every activity matches both and "oneOf" fails every real answer.
    activities = specs["trading"]["paths"]["/v2/account/activities/{activity_type}"]["get"]
    items = activities["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    if "oneOf" in items:
        items["anyOf"] = items.pop("oneOf")
    # Announcements' ca_type is lower case ("split", "dividend") in Alpaca's answers and
    # in alpaca-py's CorporateActionType, which refuses the capitalised spelling.
    ca_type = specs["trading"]["components"]["schemas"]["CorporateActionCaType"]
    if "enum" in ca_type:
        ca_type["enum"] = sorted({*ca_type["enum"], *(v.lower() for v in ca_type["enum"])})


def in_scope_operations(specs: dict[str, dict[str, Any]]) -> list[Operation]:
    """Every stock and crypto operation of both specifications, in their order."""
    out: list[Operation] = []
    for api, spec in specs.items():
        for path, item in spec["paths"].items():
            if path.startswith(OUT_OF_SCOPE):
                continue
            for method in _METHODS:
                if method in item:
                    operation_id = item[method].get("operationId", f"{method} {path}")
                    out.append(Operation(api, method.upper(), path, operation_id))
    return out


def _response_schema(spec: dict[str, Any], op: Operation, status: int) -> tuple[bool, Any]:
    """(documented, schema): whether ``status`` is documented, and its JSON schema."""
    responses = spec["paths"][op.path][op.method.lower()].get("responses", {})
    answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if answer is None:
        return False, None
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    content = answer.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return True, (media or {}).get("schema")


def response_errors(
    specs: dict[str, dict[str, Any]], op: Operation, status: int, body: bytes
) -> list[str]:
    """Why this response does not conform to the specification (empty when it does)."""
    spec = specs[op.api]
    documented, schema = _response_schema(spec, op, status)
    if not documented:
        return [f"status {status} is not documented for {op.operation_id}"]
    if schema is None:
        return [] if not body.strip() or status >= 400 else ["a body where none is documented"]
    try:
        data = json.loads(body)
    except ValueError:
        return ["the body is not JSON"]
    root = {"allOf": [schema], "components": spec.get("components", {})}
    validator = jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message[:200]}"
        for e in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))[:20]
    ]
