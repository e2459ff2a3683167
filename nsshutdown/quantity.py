"""Kubernetes resource quantities (``"100m"``, ``"128Mi"``, ``"1G"``, ``"2e3"``) as floats.

Only what a requests-based cost estimate needs: the value in base units (cores, bytes).
"""

from __future__ import annotations

import re

_BINARY: dict[str, float] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)


def parse_quantity(text: str | int | float) -> float:
    """The value of a quantity in base units. Raises ``ValueError`` on anything else."""
    if isinstance(text, int | float):
        return float(text)
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f'"{text}" is not a Kubernetes quantity')
    number = float(match["number"])
    if match["exponent"]:
        return number * 10.0 ** int(match["exponent"][1:])
    suffix = match["suffix"] or ""
    return number * _BINARY.get(suffix, _DECIMAL.get(suffix, 1.0))
