"""Kubernetes resource quantities (``"100m"``, ``"128Mi"``, ``"1G"``, ``"2e3"``) as floats.

Only what a requests-based cost estimate needs: the value in base units (cores, bytes).
"""

from __future__ import annotations

import math
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
    r"^(?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]{1,4})|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)


def parse_quantity(text: str | int | float) -> float:
    """The value of a quantity in base units: finite and not negative, as a request must be.

    Raises ``ValueError`` on anything else (an overflowing exponent included).
    """
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _QUANTITY.match(str(text).strip())
        if match is None:
            raise ValueError(f'"{str(text)[:40]}" is not a Kubernetes quantity')
        number = float(match["number"])
        if match["exponent"]:
            try:
                value = number * 10.0 ** int(match["exponent"][1:])
            except OverflowError:
                value = math.inf
        else:
            suffix = match["suffix"] or ""
            value = number * _BINARY.get(suffix, _DECIMAL.get(suffix, 1.0))
    if not math.isfinite(value) or value < 0:
        raise ValueError(f'"{str(text)[:40]}" is not a quantity a request can have')
    return value
