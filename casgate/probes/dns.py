"""Ask each of the phones' DNS servers for the HQ FQDN's A record (UDP, TCP when truncated, bounded time)."""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


def split_server(server: str) -> tuple[str, int]:
    """'192.0.2.53', '192.0.2.53:5353', '[2001:db8::53]:53' or '::1' -> (address, port)."""
    if server.startswith("["):
        address, _, port = server[1:].partition("]:")
        return address.rstrip("]"), int(port or 53)
    if server.count(":") == 1:
        address, port = server.split(":")
        return address, int(port)
    return server, 53


def ask(fqdn: str, server: str, timeout: float) -> dict[str, Any]:
    """One server's answer as stored in probes/dns.json; an unanswered query is recorded, never raised."""
    record: dict[str, Any] = {"server": server, "rcode": None, "addresses": [], "ttl": None, "error": None}
    try:
        address, port = split_server(server)
        query = dns.message.make_query(fqdn, dns.rdatatype.A)
        response = dns.query.udp(query, address, timeout=timeout, port=port)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, address, timeout=timeout, port=port)
    except dns.exception.Timeout:
        record["error"] = f"timeout after {timeout:g} s"
        return record
    except (OSError, ValueError, dns.exception.DNSException) as exc:
        record["error"] = f"unreachable: {exc}"
        return record
    record["rcode"] = dns.rcode.to_text(response.rcode())
    a_sets = [rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.A]
    record["addresses"] = sorted({rdata.address for rrset in a_sets for rdata in rrset})
    record["ttl"] = min((rrset.ttl for rrset in a_sets), default=None)
    return record


def probe_dns(fqdn: str, servers: list[str], timeout: float) -> dict[str, Any]:
    return {"fqdn": fqdn, "servers": [ask(fqdn, server, timeout) for server in servers]}
