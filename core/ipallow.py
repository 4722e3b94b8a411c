"""Per-token IP allowlists: which client addresses may use a token.

A token stores its list as one normalised, comma-separated string (`Token.allowed_ips`), which
the auth query reads as it is. Parsing that string into networks happens once per process per
distinct list (`networks` is cached by the string), so a request pays only the membership test.
Pure Python, no Django, like the codec.
"""

import ipaddress
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_ENTRIES = 50


class InvalidAllowlist(ValueError):
    """An entry is not an IP address or CIDR network; the message says which and why."""


def normalize(entries: list[str] | None) -> str:
    """Validate addresses and CIDR networks and return the stored form ("" means anywhere).

    Single addresses are stored bare, networks in CIDR notation, duplicates once, in the order
    given. A network with host bits set (10.0.0.5/8) is refused rather than silently widened.
    """
    if not entries:
        return ""
    if len(entries) > MAX_ENTRIES:
        raise InvalidAllowlist(f"List at most {MAX_ENTRIES} addresses or networks.")
    seen: dict[str, None] = {}
    for raw in entries:
        entry = raw.strip() if isinstance(raw, str) else ""
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise InvalidAllowlist(
                    f"“{entry[:60]}” is not an IP address or network (such as 203.0.113.7 or "
                    "198.51.100.0/24)."
                ) from None
            raise InvalidAllowlist(
                f"“{entry}” has bits set beyond its prefix; did you mean {loose}?"
            ) from None
        host = network.num_addresses == 1
        seen[str(network.network_address) if host else str(network)] = None
    return ",".join(seen)


@lru_cache(maxsize=4096)
def networks(stored: str) -> tuple[IPNetwork, ...]:
    """The networks of a stored list, parsed once per process for each distinct list."""
    return tuple(ipaddress.ip_network(entry) for entry in stored.split(",") if entry)


def allows(stored: str, address: str | None) -> bool:
    """Whether a client at `address` may use a token whose list is `stored` ("" allows all)."""
    if not stored:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:203.0.113.7 is 203.0.113.7 on a dual-stack socket
    return any(ip in network for network in networks(stored))
