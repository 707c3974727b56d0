"""IP addresses in patterns: ``cidr`` blocks, and plain values that are IP addresses (event-ruler ``CIDR``).

A block is the range from the address as written to that address with its host bits set: ``10.0.0.9/24``
covers 10.0.0.9-10.0.0.255, not 10.0.0.0/24. A mask must be below the address width (``/32`` and ``/128``
are refused). A string counts as an address only if it looks like one to event-ruler's two regular
expressions and parses: ``::ffff:10.0.0.1`` does not (it holds dots), so it never falls in an IPv4 block.
A plain pattern value that is an address matches the same address however it is spelled (``::1`` and
``0:0:0:0:0:0:0:1``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache

from workflowkit.patterns.errors import InvalidEventPatternError

__all__ = ["Address", "compile_cidr", "parse_address"]

Address = tuple[int, int]  # (bits, value): (32, ...) for IPv4, (128, ...) for IPv6
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
_MASK = re.compile(r"[+-]?[0-9]+")  # what Java's Integer.parseInt takes


def _looks_like_address(text: str) -> bool:
    return _IPV4.fullmatch(text) is not None or _IPV6.fullmatch(text) is not None


def _parse(text: str) -> Address | None:
    if _IPV4.fullmatch(text):
        parts = [int(part) for part in text.split(".")]  # Java reads "010" as 10, like this
        if any(part > 255 for part in parts):
            return None
        return 32, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
    try:
        return 128, int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_address(text: str) -> Address | None:
    """The address a string spells, or None when event-ruler would not read it as one."""
    return _parse(text) if _looks_like_address(text) else None


def compile_cidr(text: str, path: str) -> Callable[[str], bool]:
    def fail(reason: str) -> InvalidEventPatternError:
        return InvalidEventPatternError(reason, path)

    parts = text.split("/")
    while len(parts) > 1 and not parts[-1]:  # Java's String.split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise fail("Malformed CIDR, one '/' required")
    address_text, mask_text = parts
    if not _MASK.fullmatch(mask_text):
        raise fail("Malformed CIDR, mask bits must be an integer")
    mask = int(mask_text)
    if mask < 0:
        raise fail("Malformed CIDR, mask bits must not be negative")
    if not _looks_like_address(address_text):
        raise fail(f"Nonstandard IP address: {address_text}")
    address = _parse(address_text)
    if address is None:
        raise fail(f"Invalid IP address: {address_text}")
    bits, low = address
    if mask >= bits:
        raise fail("IPv4 mask bits must be < 32" if bits == 32 else "IPv6 mask bits must be < 128")
    high = low | ((1 << (bits - mask)) - 1)

    def in_block(value: str) -> bool:
        parsed = parse_address(value)
        return parsed is not None and parsed[0] == bits and low <= parsed[1] <= high

    return in_block
