"""Real servers on loopback for the probe tests: a TLS/HTTPS server shaped like IIS and a DNS server."""

from __future__ import annotations

import hashlib
import socket
import socketserver
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

IIS_403_16 = (
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


def _issue(subject: str, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None, ca: bool, san: str | None = None,
           days: int = 30) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A certificate and its key, valid from yesterday for `days`; self-signed unless `issuer` (name, key) is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = issuer or (name, key)
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=days)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(signer, hashes.SHA256()), key


def _write_identity(folder: Path, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = folder / "server.pem", folder / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def write_server_identity(folder: Path, fqdn: str) -> tuple[Path, Path, bytes]:
    """A self-signed RSA certificate and key for a test server (test-only files in a temp folder); returns DER too."""
    cert, key = _issue(fqdn, None, False)
    return (*_write_identity(folder, cert, key), cert.public_bytes(serialization.Encoding.DER))


def write_hq_identity(folder: Path, fqdn: str, mitel_root: bytes) -> tuple[Path, Path, dict[str, bytes]]:
    """The HQ server's TLS identity as its keystore holds it: server.crt (SAN = fqdn, valid a year) issued by the HQ's
    own CA, its key for the loopback TLS server, and the DER the collector reports, keyed as host_document wants."""
    ca, ca_key = _issue("Mitel Connect HQ Local CA", None, True, days=3650)
    server, key = _issue(fqdn, (ca.subject, ca_key), False, san=fqdn, days=365)
    der = server.public_bytes(serialization.Encoding.DER)
    return (*_write_identity(folder, server, key), {"mitel": mitel_root, "hq_ca": ca.public_bytes(serialization.Encoding.DER),
                                                   "server": der, "server_thumb": hashlib.sha1(der).hexdigest().upper().encode()})


@dataclass(frozen=True)
class TlsServer:
    address: str
    port: int


@contextmanager
def tls_server(cert: Path, key: Path, tls10: bool = True, ciphers: str = "DEFAULT:@SECLEVEL=0", together: int = 1,
               opened: list[int] | None = None) -> Iterator[TlsServer]:
    """An HTTPS server on 127.0.0.1 that answers every request like IIS answers certauth without a client cert.
    `together` > 1: no handshake starts until that many connections are open at once (else, after 3 s, none does);
    `opened` gets the number of connections open at each accept."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1 if tls10 else ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    gate = threading.Barrier(together, timeout=3) if together > 1 else None
    open_now = [0]
    lock = threading.Lock()

    def answer(raw: socket.socket) -> None:
        try:
            if gate is not None:
                gate.wait()
            _answer(context, raw)
        except threading.BrokenBarrierError:
            raw.close()
        finally:
            with lock:
                open_now[0] -= 1

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                continue
            with lock:
                open_now[0] += 1
                if opened is not None:
                    opened.append(open_now[0])
            threading.Thread(target=answer, args=(raw,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield TlsServer("127.0.0.1", listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()


def _answer(context: ssl.SSLContext, raw: socket.socket) -> None:
    raw.settimeout(5)
    try:
        with context.wrap_socket(raw, server_side=True) as tls:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                request += chunk
            tls.sendall(IIS_403_16)
    except (ssl.SSLError, OSError):
        pass  # a refused handshake is what some tests want


@dataclass(frozen=True)
class DnsServer:
    address: str
    port: int

    @property
    def spec(self) -> str:
        return f"{self.address}:{self.port}"


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # a port number whose last connection is still in TIME_WAIT


def _udp_and_tcp(udp_handler: type, tcp_handler: type) -> tuple[socketserver.ThreadingUDPServer, socketserver.ThreadingTCPServer]:
    """A UDP and a TCP server on one port number, as DNS serves both: the TCP twin of a free UDP port may be taken
    by another test's connection, so another UDP port is tried."""
    for _ in range(50):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), udp_handler)
        try:
            return udp, _TcpServer(("127.0.0.1", udp.server_address[1]), tcp_handler)
        except OSError:
            udp.server_close()
    raise OSError("no port number on 127.0.0.1 was free for both UDP and TCP in 50 tries")


@contextmanager
def dns_server(records: dict[str, list[str]], silent: bool = False) -> Iterator[DnsServer]:
    """A DNS server on 127.0.0.1 (UDP and TCP): A records from `records`, NXDOMAIN for other names;
    `silent` reads queries and never answers, like a firewalled server."""

    def respond(wire: bytes) -> bytes | None:
        if silent:
            return None
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        name = query.question[0].name.to_text().rstrip(".").lower()
        if name in records:
            if records[name]:
                response.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A", *records[name]))
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    class Udp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            answer = respond(data)
            if answer is not None:
                sock.sendto(answer, self.client_address)

    class Tcp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            length = int.from_bytes(self.request.recv(2), "big")
            answer = respond(self.request.recv(length))
            if answer is not None:
                self.request.sendall(len(answer).to_bytes(2, "big") + answer)

    udp, tcp = _udp_and_tcp(Udp, Tcp)
    port = udp.server_address[1]
    servers = [udp, tcp]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield DnsServer("127.0.0.1", port)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
