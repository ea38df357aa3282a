"""Qt's own host-name check, run for real: Debian's python3-pyqt5 (Qt 5.15) calls QSslCertificate::verify(chain, host),
whose HostNameMismatch error comes from QSslSocketPrivate::isMatchingHostname, the check the phones' QSslSocket makes.

Run with Debian's /usr/bin/python3 (not casgate's virtualenv): reads a JSON list of [PEM, host] pairs on stdin and
prints a JSON list of booleans, true where Qt accepts the host. tests/test_pki_oracle.py drives it, one process for
every case."""

import json
import sys

from PyQt5.QtCore import QT_VERSION_STR, QCoreApplication
from PyQt5.QtNetwork import QSslCertificate, QSslError, QSslSocket


def accepts(pem: str, host: str) -> bool:
    certificate = QSslCertificate(pem.encode("ascii"))
    if certificate.isNull():
        raise SystemExit(f"Qt cannot read the certificate for {host!r}")
    errors = QSslCertificate.verify([certificate], host)
    return not any(error.error() == QSslError.HostNameMismatch for error in errors)


def main() -> None:
    QCoreApplication([])
    cases = json.load(sys.stdin)
    # Left alone, Qt on Linux re-reads the system's CA directory on every verify() (~0.3 s a call); the host-name check
    # does not use the trust store, so one certificate stands in for it and on-demand loading stops.
    QSslSocket.setDefaultCaCertificates([QSslCertificate(cases[0][0].encode("ascii"))])
    json.dump({"qt": QT_VERSION_STR, "accepts": [accepts(pem, host) for pem, host in cases]}, sys.stdout)


if __name__ == "__main__":
    main()
