"""Benchmark: reading a certificate store exported as Windows writes it, against the one-DER-per-file export.

    python bench/certfiles.py [--runs 20]

The store is Microsoft's disallowedcert.sst (tests/realworld/certfiles, 71 certificates). In the same run it is read
as that one .sst, as 71 DER files, as one DER PKCS#7 and as 71 UTF-16 LE PEM files (Windows PowerShell 5.1's Out-File),
each time with casgate's per-process certificate cache emptied, so every certificate is parsed and judged again.
Prints the median of --runs per form, and each form's ratio to the DER files (the baseline)."""

from __future__ import annotations

import argparse
import codecs
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa: E402

from casgate import certs  # noqa: E402
from casgate.certfile import read_certificate_file  # noqa: E402

SST = REPO / "tests" / "realworld" / "certfiles" / "microsoft-disallowedcert.sst"


def _forms(folder: Path) -> dict[str, Path]:
    data = SST.read_bytes()
    ders = read_certificate_file(data).certificates
    loadable = []
    warnings.simplefilter("ignore")  # one of them has a negative serial number, which cryptography warns about
    for der in ders:
        try:
            loadable.append(x509.load_der_x509_certificate(der))
        except ValueError:
            pass
    forms = {name: folder / name for name in ("der-files", "sst", "p7b", "utf16-pem-files")}
    for path in forms.values():
        path.mkdir()
    for n, der in enumerate(ders):
        (forms["der-files"] / f"{n:03d}.cer").write_bytes(der)
        pem = "-----BEGIN CERTIFICATE-----\r\n" + "\r\n".join(
            codecs.encode(der, "base64").decode().split()) + "\r\n-----END CERTIFICATE-----\r\n"
        (forms["utf16-pem-files"] / f"{n:03d}.cer").write_bytes(codecs.BOM_UTF16_LE + pem.encode("utf-16-le"))
    (forms["sst"] / "store.sst").write_bytes(data)
    # cryptography cannot load one of the 71 (an encoded DEFAULT); the bundle holds the other 70
    (forms["p7b"] / "store.p7b").write_bytes(pkcs7.serialize_certificates(loadable, serialization.Encoding.DER))
    return forms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        forms = _forms(Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in forms}
        for _ in range(args.runs):
            for name, folder in forms.items():  # interleaved, so drift hits every form alike
                certs._judged.cache_clear()
                start = time.perf_counter()
                store = certs.load_store(folder, f"{name}/")
                times[name].append(time.perf_counter() - start)
                assert len(store) in (70, 71), (name, len(store))
    base = statistics.median(times["der-files"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:16s} {median * 1000:8.2f} ms  x{median / base:.2f} of der-files")


if __name__ == "__main__":
    main()
