"""Where and how a run pushes its metrics: the validated settings behind ``--pushgateway*``
(and ``--team-label``, the namespace label that names the team of the advance-notice gauge).

Plain data and checks, no Typer: the CLI builds :class:`MetricsOptions` from its flags
(:mod:`nsshutdown.cli.metrics_options`), ``check`` and the metrics push read it. A bad value is a
:class:`~nsshutdown.errors.UsageError` (exit 1) that names the flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nsshutdown.errors import UsageError
from nsshutdown.observe.pushgateway import DEFAULT_TIMEOUT, PASSWORD_ENV
from nsshutdown.observe.savings import ON_DEMAND_PRICES, Prices

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DNS_SUBDOMAIN = re.compile(
    r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
)
_LABEL_KEY_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
#: The namespace label whose value is the ``team`` of the next-transition gauge (``--team-label``).
DEFAULT_TEAM_LABEL = "team"


@dataclass(frozen=True)
class MetricsOptions:
    """Where and how to push, and the prices of the savings estimate. ``url=None``: no push."""

    url: str | None = None
    grouping: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    insecure: bool = False
    strict: bool = False
    prices: Prices = ON_DEMAND_PRICES
    team_label: str = DEFAULT_TEAM_LABEL

    @classmethod
    def from_cli(
        cls,
        *,
        pushgateway: str | None = None,
        pushgateway_grouping: Sequence[str] | None = None,
        pushgateway_timeout: float = DEFAULT_TIMEOUT,
        pushgateway_username: str | None = None,
        pushgateway_password_file: Path | None = None,
        pushgateway_ca_file: Path | None = None,
        pushgateway_insecure: bool = False,
        strict_metrics: bool = False,
        cpu_hour_price: float = Prices.cpu_hour,
        memory_gib_hour_price: float = Prices.memory_gib_hour,
        team_label: str = DEFAULT_TEAM_LABEL,
    ) -> MetricsOptions:
        """Validate the raw option values; :class:`UsageError` (exit 1) names the bad one."""
        if pushgateway_timeout <= 0:
            raise UsageError("--pushgateway-timeout must be more than 0 seconds")
        try:
            prices = Prices(cpu_hour=cpu_hour_price, memory_gib_hour=memory_gib_hour_price)
        except ValueError:
            raise UsageError("--cpu-hour-price and --memory-gib-hour-price must be >= 0") from None
        if not is_label_key(team_label):
            raise UsageError(f'--team-label "{team_label}" is not a Kubernetes label key')
        return cls(
            url=normalize_url(pushgateway) if pushgateway else None,
            grouping=parse_grouping(pushgateway_grouping or ()),
            timeout=pushgateway_timeout,
            username=pushgateway_username or None,
            password_file=pushgateway_password_file,
            ca_file=pushgateway_ca_file,
            insecure=pushgateway_insecure,
            strict=strict_metrics,
            prices=prices,
            team_label=team_label,
        )


def is_label_key(key: str) -> bool:
    """A Kubernetes label key: an optional DNS-subdomain prefix and ``/``, then a short name."""
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_KEY_NAME.fullmatch(name))


def normalize_url(url: str) -> str:
    """``host:9091`` -> ``http://host:9091``; refuses other schemes and credentials in the URL."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--pushgateway: {parts.scheme}://... is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "--pushgateway: put credentials in --pushgateway-username and"
            f" --pushgateway-password-file (or ${PASSWORD_ENV}), not in the URL"
        )
    if parts.query or parts.fragment:
        raise UsageError("--pushgateway: the URL must not have a query or a fragment")
    return url


def parse_grouping(pairs: Sequence[str]) -> dict[str, str]:
    """``["cluster=prod-eu"]`` -> ``{"cluster": "prod-eu"}``: extra grouping-key labels."""
    grouping: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not value:
            raise UsageError(f'--pushgateway-grouping "{pair}": expected LABEL=VALUE')
        if not _LABEL_NAME.fullmatch(key) or key.startswith("__"):
            raise UsageError(f'--pushgateway-grouping "{pair}": "{key}" is not a label name')
        if key == "job":
            raise UsageError('--pushgateway-grouping: "job" is always "nsshutdown"')
        if key in grouping:
            raise UsageError(f'--pushgateway-grouping: "{key}" given twice')
        grouping[key] = value
    return grouping
