"""A WS-Management server on loopback, speaking the WinRM shell protocol the way pywinrm uses it (Create shell,
Command, Receive, Signal, Delete: SOAP over POST /wsman), with NTLM (pyspnego as the acceptor, channel binding over
HTTPS, sealed messages over HTTP as Windows requires) and Basic over HTTPS. Commands run as cmd.exe would start
`powershell -EncodedCommand`: the script is decoded and answered like Windows PowerShell 5.1 answers it."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import ssl
import struct
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import spnego
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from spnego._ntlm_raw.crypto import ntowfv1
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from casgate.collector import minify, script

NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
      "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"}
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_LIMIT = 8191
CHUNK = 96 * 1024  # stdout bytes per Receive: WinRM keeps each reply under MaxEnvelopeSize (150 KiB, base64 inflates)
BOUNDARY = b"--Encrypted Boundary"
SEALED = b"application/HTTP-SPNEGO-session-encrypted"
_NTLM_USERS = threading.Lock()  # pyspnego's NTLM acceptor reads its users from the file named by NTLM_USER_FILE

# What Windows PowerShell 5.1 writes to stderr while `Import-Module WebAdministration` loads, exit code 0.
PROGRESS = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" '
            b'RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS>'
            b'<I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI>'
            b'<PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj></Objs>')


@dataclass(frozen=True)
class Output:
    """What one command gives back through WinRM: stdout, stderr and the exit code."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0


Answer = Callable[[str], "Output | None"]
"""The decoded PowerShell script -> its output; None: it never finishes."""


def powershell_json(doc: Any) -> bytes:
    """`ConvertTo-Json -Compress` in Windows PowerShell 5.1 (it escapes < > ' &) through emit.ps1 (non-ASCII as
    \\uXXXX), as printed: CRLF-terminated."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True)
    for char in "<>'&":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text.encode("ascii") + b"\r\n"


def clixml_error(*lines: str) -> bytes:
    """A terminating error as powershell -EncodedCommand writes it to stderr in code page 437: progress, then one
    <S S="Error"> record per line, CR LF escaped as _x000D__x000A_."""
    records = "".join(f'<S S="Error">{escape(line)}_x000D__x000A_</S>' for line in lines)
    return PROGRESS[:-len(b"</Objs>")] + records.encode("cp437", errors="replace") + b"</Objs>"  # the shell's code page


def collector_answer(host_doc: Any, logs_doc: Any, stderr: bytes = PROGRESS) -> Answer:
    """Answers casgate's two collector parts (host.ps1, iislogs.ps1) with the given documents."""

    def answer(text: str) -> Output:
        if minify(script("host.ps1")) in text and text.startswith("$ShorelineData="):
            return Output(powershell_json(host_doc), stderr)
        if minify(script("iislogs.ps1")) in text and text.startswith("$SinceHours="):
            return Output(powershell_json(logs_doc), stderr)
        return Output(stderr=clixml_error("casgate test server: not a collector part"), exit_code=1)

    return answer


@dataclass(frozen=True)
class WinrmServer:
    port: int
    tls: bool
    ca_file: Path
    scripts: list[str] = field(default_factory=list)  # every command run, PowerShell scripts decoded

    def connection(self, **options: str) -> str:
        """The inventory connection for this server: HTTPS trusting its certificate, or `no_ssl=true`."""
        query = {"ca_trust_path": str(self.ca_file)} if self.tls else {"no_ssl": "true"}
        return f"winrm://127.0.0.1:{self.port}?{urlencode(query | options)}"


def _identity(folder: Path) -> tuple[Path, Path, bytes]:
    """A self-signed certificate for 127.0.0.1 and localhost, like the one `winrm quickconfig -transport:https` needs."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "winrm.pem", folder / "winrm-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file, cert.public_bytes(serialization.Encoding.DER)


def _user_file(folder: Path, users: dict[str, str]) -> Path:
    """The acceptor's users in smbpasswd form (NT hash, never the password: any character is allowed in it)."""
    path = folder / "ntlm-users"
    path.write_text("".join(f"{user}:1000:{'0' * 32}:{ntowfv1(password).hex().upper()}:[U]:LCT-0\n"
                            for user, password in users.items()))
    return path


@contextmanager
def _ntlm_users(path: Path) -> Iterator[None]:
    with _NTLM_USERS:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)
        try:
            yield
        finally:
            if previous is None:
                del os.environ["NTLM_USER_FILE"]
            else:
                os.environ["NTLM_USER_FILE"] = previous


@dataclass
class _Command:
    stdout: bytes
    stderr: bytes
    exit_code: int | None  # None: still running, forever


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, answer: Answer, users: dict[str, str], folder: Path, tls: bool, stall: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        folder = Path(tempfile.mkdtemp(prefix=f"winrm-{self.server_port}-", dir=folder))
        cert, key, der = _identity(folder)
        self.ca_file, self.answer, self.users, self.stall = cert, answer, users, stall
        self.user_file = _user_file(folder, users)
        self.stopping = threading.Event()
        self.scripts: list[str] = []
        self.commands: dict[str, _Command] = {}
        self.context: ssl.SSLContext | None = None
        self.bindings: GssChannelBindings | None = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)
            self.bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.context is not None:  # the handshake happens in the connection's own thread, on first read
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 10  # an idle keep-alive connection ends
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.ntlm: Any = None  # NTLM authenticates the connection, not each request
        self.user: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionError):
            self.close_connection = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.stall:  # a hung WinRM service: the request is read, never answered
            self.server.stopping.wait()
            self.close_connection = True
            return
        if self.path.lower() != "/wsman":
            return self._reply(404, b"")
        if not self._authenticate():
            return
        sealed = self.headers.get("Content-Type", "").startswith("multipart/encrypted")
        if sealed:
            body = self._unseal(body)
        elif body and self.server.context is None and self.ntlm is not None:
            return self._reply(400, b"")  # AllowUnencrypted is false on Windows: plain SOAP over HTTP is refused
        if not body:
            return self._reply(200, b"")  # pywinrm's empty POST that sets up the sealing context
        status, reply = self._soap(ElementTree.fromstring(body))
        if sealed:
            return self._reply(status, self._seal(reply), f'multipart/encrypted;protocol="{SEALED.decode()}";boundary="Encrypted Boundary"')
        return self._reply(status, reply)

    def _reply(self, status: int, body: bytes, content_type: str = "application/soap+xml;charset=UTF-8",
               headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _challenge(self, token: str = "") -> None:
        offers = [("WWW-Authenticate", f"Negotiate {token}".strip())]
        if not token and self.server.context is not None:
            offers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        self._reply(401, b"", headers=tuple(offers))

    def _authenticate(self) -> bool:
        """True when the request may proceed; otherwise the 401 (challenge or refusal) has been sent."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() in ("negotiate", "ntlm"):
            return self._ntlm_step(base64.b64decode(token))
        if scheme.lower() == "basic" and self.server.context is not None:
            user, _, password = base64.b64decode(token).decode("utf-8", "replace").partition(":")
            if self.server.users.get(user) == password:
                self.user = user
                return True
        elif self.user is not None:
            return True
        self._challenge()
        return False

    def _ntlm_step(self, token: bytes) -> bool:
        with _ntlm_users(self.server.user_file):
            if token[8:9] == b"\x01":  # NEGOTIATE: a new handshake on this connection
                self.ntlm = spnego.server(protocol="ntlm", channel_bindings=self.server.bindings)
                self.user = None
                self._challenge(base64.b64encode(self.ntlm.step(token) or b"").decode())
                return False
            try:
                self.ntlm.step(token)
            except (SpnegoError, AttributeError):
                self.ntlm = None
                self._challenge()
                return False
        self.user = self.ntlm.client_principal
        return True

    def _unseal(self, body: bytes) -> bytes:
        payload = body.split(BOUNDARY + b"\r\n")[2].removesuffix(BOUNDARY + b"--\r\n")
        blob = payload.removeprefix(b"\tContent-Type: application/octet-stream\r\n")
        signature_length = struct.unpack("<i", blob[:4])[0]
        return self.ntlm.unwrap(blob[4:4 + signature_length] + blob[4 + signature_length:]).data

    def _seal(self, reply: bytes) -> bytes:
        wrapped = self.ntlm.wrap(reply, encrypt=True).data
        return (BOUNDARY + b"\r\n\tContent-Type: " + SEALED + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
                + str(len(reply)).encode() + b"\r\n" + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
                + struct.pack("<i", 16) + wrapped + BOUNDARY + b"--\r\n")

    def _soap(self, envelope: ElementTree.Element) -> tuple[int, bytes]:
        header = envelope.find("s:Header", NS)
        assert header is not None
        action = header.findtext("a:Action", "", NS).rsplit("/", 1)[1]
        message_id = header.findtext("a:MessageID", "", NS)
        selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        shell = selector.text if selector is not None else str(uuid.uuid4()).upper()
        body = envelope.find("s:Body", NS)
        assert body is not None
        if action == "Create":
            reply = (f'<x:ResourceCreated><a:Address>https://127.0.0.1:{self.server.server_port}/wsman</a:Address><a:ReferenceParameters>'
                     f'<w:ResourceURI>{SHELL}/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">{shell}</w:Selector>'
                     f'</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>')
        elif action == "Command":
            command_id = str(uuid.uuid4()).upper()
            self.server.commands[command_id] = self._run(body.findtext("rsp:CommandLine/rsp:Command", "", NS))
            reply = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        elif action == "Receive":
            return self._receive(header, body, message_id)
        elif action == "Signal":
            stream = body.find("rsp:Signal", NS)
            self.server.commands.pop(stream.get("CommandId", "") if stream is not None else "", None)
            reply = "<rsp:SignalResponse/>"
        else:  # Delete
            reply = ""
        return 200, _envelope(action, message_id, reply)

    def _run(self, command_line: str) -> _Command:
        """cmd.exe starting the command: its line limit, then powershell.exe with an -EncodedCommand."""
        if len(command_line) > CMD_LIMIT:
            return _Command(b"", b"The command line is too long.\r\n", 1)
        words = command_line.split()
        if not words or words[0].lower() != "powershell":
            self.server.scripts.append(command_line)
            name = words[0] if words else ""
            return _Command(b"", f"'{name}' is not recognized as an internal or external command,\r\n"
                                 "operable program or batch file.\r\n".encode(), 1)
        text = base64.b64decode(words[-1]).decode("utf-16-le")
        self.server.scripts.append(text)
        output = self.server.answer(text)
        return _Command(b"", b"", None) if output is None else _Command(output.stdout, output.stderr, output.exit_code)

    def _receive(self, header: ElementTree.Element, body: ElementTree.Element, message_id: str) -> tuple[int, bytes]:
        stream = body.find("rsp:Receive/rsp:DesiredStream", NS)
        command_id = stream.get("CommandId", "") if stream is not None else ""
        command = self.server.commands[command_id]
        if command.exit_code is None:  # nothing to say within OperationTimeout: WinRM's TimedOut fault
            seconds = float(re.sub(r"[^0-9.]", "", header.findtext("w:OperationTimeout", "PT20S", NS)) or 20)
            self.server.stopping.wait(seconds)
            return 500, _timed_out(message_id)
        chunk, command.stdout = command.stdout[:CHUNK], command.stdout[CHUNK:]
        streams = f'<rsp:Stream Name="stdout" CommandId="{command_id}">{base64.b64encode(chunk).decode()}</rsp:Stream>'
        if command.stdout:
            state = f'<rsp:CommandState CommandId="{command_id}" State="{SHELL}/CommandState/Running"/>'
        else:
            streams += (f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>'
                        f'<rsp:Stream Name="stderr" CommandId="{command_id}">{base64.b64encode(command.stderr).decode()}</rsp:Stream>'
                        f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>')
            state = (f'<rsp:CommandState CommandId="{command_id}" State="{SHELL}/CommandState/Done">'
                     f'<rsp:ExitCode>{command.exit_code}</rsp:ExitCode></rsp:CommandState>')
        return 200, _envelope("Receive", message_id, f'<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>')


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    response = "http://schemas.xmlsoap.org/ws/2004/09/transfer/" if action in ("Create", "Delete") else f"{SHELL}/"
    return (f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" '
            f'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="{NS["w"]}" xmlns:rsp="{SHELL}" '
            f'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>{response}{action}Response</a:Action>'
            f'<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>'
            f'<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
            f'<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>').encode("utf-8")


def _timed_out(relates_to: str) -> bytes:
    fault = ('<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>'
             '<s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time '
             'specified in OperationTimeout.  </s:Text></s:Reason><s:Detail><f:WSManFault '
             'xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="127.0.0.1">'
             '<f:Message>The WS-Management service cannot complete the operation within the time specified in '
             'OperationTimeout.  </f:Message></f:WSManFault></s:Detail></s:Fault>')
    envelope = _envelope("Receive", relates_to, fault).decode()
    return envelope.replace(f"{SHELL}/ReceiveResponse", "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault").encode()


@contextmanager
def winrm_server(answer: Answer, users: dict[str, str], folder: Path, tls: bool = True, stall: bool = False,
                 lifetime: float = 180) -> Iterator[WinrmServer]:
    """A WinRM listener on 127.0.0.1 (HTTPS, or HTTP with `tls=False`) on a free port, accepting `users` (NTLM, and
    Basic over HTTPS); `stall` reads each request and never answers. It stops on leaving, or after `lifetime` s."""
    server = _Server(answer, users, folder, tls, stall)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True
    thread.start()
    timer.start()
    try:
        yield WinrmServer(server.server_port, tls, server.ca_file, server.scripts)
    finally:
        timer.cancel()
        server.stopping.set()
        server.shutdown()
        server.server_close()
