"""Kubernetes quantities, byte sizes and durations, parsed once and compared as integers."""

from __future__ import annotations

import re
from datetime import timedelta

_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_DURATION = re.compile(r"^([0-9]+)(d|h|m|s)$")


def parse_bytes(value: str | int | float) -> int:
    """A memory quantity or size (``256Mi``, ``1G``, ``1048576``) in bytes; ``ValueError`` if malformed."""
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) == "m":
        raise ValueError(f"not a size: {value!r} (expected e.g. 256Mi, 1Gi or a number of bytes)")
    number, suffix = float(match.group(1)), match.group(2)
    factor = _BINARY.get(suffix or "", _DECIMAL.get(suffix or "", 1))
    return int(number * factor)


def parse_millicores(value: str | int | float) -> int:
    """A CPU quantity (``500m``, ``2``, ``0.5``) in millicores; ``ValueError`` if malformed."""
    match = _QUANTITY.match(str(value).strip())
    if not match or (match.group(2) not in (None, "m")):
        raise ValueError(f"not a CPU quantity: {value!r} (expected e.g. 500m or 2)")
    number = float(match.group(1))
    return int(number) if match.group(2) == "m" else round(number * 1000)


def parse_duration(value: str | int) -> timedelta:
    """``120h``, ``30d``, ``15m``, ``45s`` (or a number of seconds); ``ValueError`` if malformed."""
    if isinstance(value, int):
        return timedelta(seconds=value)
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"not a duration: {value!r} (expected e.g. 120h, 30d, 15m)")
    amount, unit = int(match.group(1)), match.group(2)
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}.get(
        unit, timedelta(seconds=amount)
    )
