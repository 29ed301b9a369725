"""`WWW-Authenticate` parsing (RFC 9110 §11.6.1): several challenges, case-insensitive schemes,
quoted or bare parameters, token68 values.  Pure and total: malformed input yields what parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenges"]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_SCHEME = re.compile(rf"\s*({_TOKEN})(?=\s|,|$)")
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9\-._~+/]+=*)\s*(?:,|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower-cased
    params: dict[str, str] = field(default_factory=dict)  # names lower-cased
    token68: str | None = None


def parse_challenges(header: str | None) -> list[Challenge]:
    """Every challenge in a (possibly comma-joined) WWW-Authenticate value."""
    text = (header or "")[:4096]
    out: list[Challenge] = []
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " ,\t":
            pos += 1
        scheme = _SCHEME.match(text, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        token68: str | None = None
        while True:
            param = _PARAM.match(text, pos)
            if param is None or _SCHEME.fullmatch(text[pos : param.start(2)].split("=")[0]) is None:
                break
            # A bare token followed by "=" is a parameter; a bare token followed by space and
            # another token starts the next challenge.
            name, value = param.group(1).lower(), param.group(2)
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params.setdefault(name, value)
            pos = param.end()
        if not params:
            t68 = _TOKEN68.match(text, pos)
            if t68 is not None and "=" not in text[pos : t68.end()].rstrip(",= "):
                token68 = t68.group(1)
                pos = t68.end()
        out.append(Challenge(scheme.group(1).lower(), params, token68))
    return out
