"""The set of named proxies behind the API, after Toxiproxy's `proxy_collection.go`.

Names are unique (409 on a duplicate); `populate` validates the whole list before touching
anything and leaves a proxy alone when its listen address and upstream are unchanged.
"""

from __future__ import annotations

import random
from typing import Any

from gaplab.netfault.proxy import Proxy, join_address, split_address
from gaplab.netfault.toxics import (
    ERR_BAD_REQUEST_BODY,
    ERR_MISSING_FIELD,
    ERR_PROXY_EXISTS,
    ERR_PROXY_NOT_FOUND,
    ApiError,
)


def resolve_listen(listen: str) -> str:
    """What Go's ResolveTCPAddr would print, for comparing listen addresses."""
    try:
        host, port = split_address(listen or "127.0.0.1:0")
    except ValueError:
        return listen
    return join_address("127.0.0.1" if host == "localhost" else host, port)


def proxy_fields(body: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """Decode the proxy fields of a body the way Go decodes into `Proxy` (others ignored)."""
    if not isinstance(body, dict):
        raise ERR_BAD_REQUEST_BODY.joined("json: cannot unmarshal into Go value of type Proxy")
    fields = dict(defaults)
    for key, kind in (("name", str), ("listen", str), ("upstream", str), ("enabled", bool)):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, kind):
            raise ERR_BAD_REQUEST_BODY.joined(
                f"json: cannot unmarshal {type(value).__name__} into Go struct field "
                f"Proxy.{key} of type {'bool' if kind is bool else 'string'}"
            )
        fields[key] = value
    return fields


class Registry:
    def __init__(self, seed: int) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.seed = seed
        # One RNG for toxicity, jitter and slicer draws: Toxiproxy's `-seed`.
        self.rng = random.Random(seed)

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise ERR_PROXY_NOT_FOUND from None

    async def create(self, body: Any) -> Proxy:
        fields = proxy_fields(body, {"name": "", "listen": "", "upstream": "", "enabled": True})
        if not fields["name"]:
            raise ERR_MISSING_FIELD.joined("name")
        if not fields["upstream"]:
            raise ERR_MISSING_FIELD.joined("upstream")
        if fields["name"] in self.proxies:
            raise ERR_PROXY_EXISTS
        proxy = Proxy(fields["name"], fields["listen"], fields["upstream"], self.rng)
        if fields["enabled"]:
            await proxy.start()
        self.proxies[proxy.name] = proxy
        return proxy

    async def update(self, proxy: Proxy, body: Any) -> None:
        current = {"listen": proxy.listen, "upstream": proxy.upstream, "enabled": proxy.enabled}
        fields = proxy_fields(body, current)
        listen = resolve_listen(fields["listen"])
        await proxy.update(listen, fields["upstream"], fields["enabled"])

    async def populate(self, body: Any) -> tuple[list[Proxy], ApiError | None]:
        if not isinstance(body, list):
            raise ERR_BAD_REQUEST_BODY.joined(
                "json: cannot unmarshal into Go value of type []struct Proxy"
            )
        entries = []
        for index, raw in enumerate(body, start=1):
            defaults = {"name": "", "listen": "", "upstream": "", "enabled": True}
            fields = proxy_fields(raw, defaults)
            if not fields["name"]:
                raise ERR_MISSING_FIELD.joined(f"name at proxy {index}")
            if not fields["upstream"]:
                raise ERR_MISSING_FIELD.joined(f"upstream at proxy {index}")
            entries.append(fields)
        done: list[Proxy] = []
        for fields in entries:
            existing = self.proxies.get(fields["name"])
            if existing is not None:
                if not existing.differs(resolve_listen(fields["listen"]), fields["upstream"]):
                    done.append(existing)
                    continue
                existing.stop()
            proxy = Proxy(fields["name"], fields["listen"], fields["upstream"], self.rng)
            try:
                if fields["enabled"]:
                    await proxy.start()
            except ApiError as exc:
                return done, exc
            self.proxies[proxy.name] = proxy
            done.append(proxy)
        return done, None

    def remove(self, name: str) -> None:
        self.get(name).stop()
        del self.proxies[name]

    async def reset(self) -> None:
        for proxy in list(self.proxies.values()):
            await proxy.start()
            await proxy.reset_toxics()

    def close(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()
