"""Who may open FastAGI sessions and how many at once: the PBX address allowlist and the session cap
derived from the process's descriptor limit.

Any process that reaches the FastAGI port can otherwise create calls, and a few hundred sessions that
never answer pin every descriptor the process has: the web API, the database and real calls then
fail together. The cap keeps FastAGI below the limit with room for everything else.
"""

from __future__ import annotations

import ipaddress
import logging
import resource
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.0/8", "::1")
# descriptors kept for everything but FastAGI: web clients and websockets, the database, AMI, MQTT,
# log and prompt files. Half the limit when the limit itself is small.
RESERVE = 256
# addresses whose verdict the allowlist keeps (the PBX uses a handful)
SEEN_HOSTS = 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """`10.0.0.5`, `10.0.0.0/24` or `::1`; ValueError with the reason otherwise."""
    return ipaddress.ip_network(text.strip(), strict=False)


class PeerAllowlist:
    """The PBX addresses FastAGI answers; an IPv4 peer seen as `::ffff:a.b.c.d` counts as a.b.c.d."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(parse_network(n) for n in networks)
        # every call opens sessions from the same few PBX addresses: each is parsed and matched once
        # (bounded, so a flood from many addresses cannot grow it)
        self._seen: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        known = self._seen.get(host)
        if known is None:
            if len(self._seen) >= SEEN_HOSTS:
                self._seen.clear()
            known = self._seen[host] = self._allows(host)
        return known

    def _allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __str__(self) -> str:
        return ", ".join(str(n) for n in self.networks) or "(nobody)"


@dataclass(frozen=True, slots=True)
class DescriptorBudget:
    """The descriptor limit found (after raising it where allowed) and the session cap it leaves."""

    soft: int
    hard: int
    raised_from: int | None
    sessions: int


def session_budget(wanted: int, reserve: int = RESERVE) -> DescriptorBudget:
    """Raise RLIMIT_NOFILE towards `wanted + reserve` (never past the hard limit) and return how many
    FastAGI sessions fit below it: at most `wanted`, and never more than the limit minus the reserve."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raised_from = None
    target = wanted + reserve
    if soft != resource.RLIM_INFINITY and soft < target:
        new_soft = target if hard == resource.RLIM_INFINITY else min(target, hard)
        if new_soft > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            except (ValueError, OSError) as err:
                log.warning("cannot raise the open-file limit from %d to %d: %s", soft, new_soft, err)
            else:
                raised_from, soft = soft, new_soft
    if soft == resource.RLIM_INFINITY:
        return DescriptorBudget(soft, hard, raised_from, wanted)
    kept = min(reserve, soft // 2)
    return DescriptorBudget(soft, hard, raised_from, max(1, min(wanted, soft - kept)))
