"""Toxic definitions as Toxiproxy's API reads and writes them (`toxics/*.go`).

`parse_new_toxic` and `parse_toxic_update` validate request bodies in Toxiproxy's order and
with its error messages (`ApiError` carries the HTTP status); `ToxicSpec.to_json` is the
exact wire shape. What each toxic *does* to bytes lives in `gaplab.netfault.stages`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

# Attribute names and defaults of each toxic type, in Toxiproxy's JSON field order.
TOXIC_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "noop": (),
    "latency": ("latency", "jitter"),
    "bandwidth": ("rate",),
    "slow_close": ("delay",),
    "timeout": ("timeout",),
    "reset_peer": ("timeout",),
    "slicer": ("average_size", "size_variation", "delay"),
    "limit_data": ("bytes",),
}
STREAMS = ("upstream", "downstream")


class ApiError(Exception):
    """An error the API answers with `{"error": message, "status": status}`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def joined(self, detail: str) -> ApiError:
        """Toxiproxy's `joinError`: `<message>: <detail>` with the same status."""
        return ApiError(f"{self.message}: {detail}", self.status)


ERR_BAD_REQUEST_BODY = ApiError("bad request body", 400)
ERR_MISSING_FIELD = ApiError("missing required field", 400)
ERR_PROXY_NOT_FOUND = ApiError("proxy not found", 404)
ERR_PROXY_EXISTS = ApiError("proxy already exists", 409)
ERR_INVALID_STREAM = ApiError("stream was invalid, can be either upstream or downstream", 400)
ERR_INVALID_TOXIC_TYPE = ApiError("invalid toxic type", 400)
ERR_TOXIC_EXISTS = ApiError("toxic already exists", 409)
ERR_TOXIC_NOT_FOUND = ApiError("toxic not found", 404)


@dataclass(frozen=True)
class ToxicSpec:
    """One toxic on a proxy: what the API shows and what every link of its stream runs."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return self.stream.lower()

    def attr(self, name: str) -> int:
        return self.attributes.get(name, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": {key: self.attr(key) for key in TOXIC_ATTRIBUTES[self.type]},
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            # Go prints a float32 1.0 as `1`; match it so clients that compare text agree.
            "toxicity": int(self.toxicity) if self.toxicity.is_integer() else self.toxicity,
        }


def decode_json(raw: bytes) -> Any:
    """Decode a request body, reporting failure as Toxiproxy's 400 `bad request body`."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ERR_BAD_REQUEST_BODY.joined(str(exc)) from None


def _int_attribute(toxic_type: str, key: str, value: Any) -> int:
    # Go decodes attributes into int64/int fields: floats, strings and bools are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ERR_BAD_REQUEST_BODY.joined(
            f"json: cannot unmarshal {json.dumps(value)} into Go struct field "
            f"attributes.{key} of type int ({toxic_type})"
        )
    return value


def _toxicity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ERR_BAD_REQUEST_BODY.joined(
            f"json: cannot unmarshal {json.dumps(value)} into Go struct field "
            "ToxicWrapper.toxicity of type float32"
        )
    return float(value)


def _string(body: dict[str, Any], key: str, default: str) -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ERR_BAD_REQUEST_BODY.joined(
            f"json: cannot unmarshal {json.dumps(value)} into Go struct field "
            f"ToxicWrapper.{key} of type string"
        )
    return value


def _merge_attributes(toxic_type: str, current: dict[str, int], raw: Any) -> dict[str, int]:
    if raw is None:
        return dict(current)
    if not isinstance(raw, dict):
        raise ERR_BAD_REQUEST_BODY.joined("json: attributes must be an object")
    merged = dict(current)
    for key in TOXIC_ATTRIBUTES[toxic_type]:
        if key in raw and raw[key] is not None:
            merged[key] = _int_attribute(toxic_type, key, raw[key])
    return merged


def parse_new_toxic(raw: bytes, existing_names: set[str]) -> ToxicSpec:
    """Validate a `POST /proxies/{proxy}/toxics` body as Toxiproxy's `AddToxicJson` does."""
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise ERR_BAD_REQUEST_BODY.joined("json: cannot unmarshal into Go value of type toxic")
    stream = _string(body, "stream", "downstream")
    toxic_type = _string(body, "type", "")
    toxicity = _toxicity(body["toxicity"]) if body.get("toxicity") is not None else 1.0
    if stream.lower() not in STREAMS:
        raise ERR_INVALID_STREAM
    name = _string(body, "name", "") or f"{toxic_type}_{stream}"
    if toxic_type not in TOXIC_ATTRIBUTES:
        raise ERR_INVALID_TOXIC_TYPE
    if name in existing_names:
        raise ERR_TOXIC_EXISTS
    attributes = _merge_attributes(toxic_type, {}, body.get("attributes"))
    return ToxicSpec(name, toxic_type, stream, toxicity, attributes)


def parse_toxic_update(raw: bytes, current: ToxicSpec) -> ToxicSpec:
    """Apply a `PATCH /proxies/{proxy}/toxics/{toxic}` body: attributes and toxicity merge."""
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise ERR_BAD_REQUEST_BODY.joined("json: cannot unmarshal into Go value of type toxic")
    toxicity = current.toxicity
    if body.get("toxicity") is not None:
        toxicity = _toxicity(body["toxicity"])
    attributes = _merge_attributes(current.type, current.attributes, body.get("attributes"))
    return replace(current, toxicity=toxicity, attributes=attributes)
