"""Real certificates nobody here made (tests/realworld/certs, provenance per entry in its corpus.toml): every real
self-signed root, of every signature algorithm, is self-signed to casgate; every intermediate, cross-sign and
same-name-other-key certificate is an offender. The bundled Windows root store is judged clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casgate.certs import Certificate, load_store, read_certificate
from casgate.checks.root_store import judge_root_store
from casgate.errors import CasgateError
from casgate.tomlfile import read_toml
from casgate.verdict import Outcome

CORPUS = Path(__file__).parent / "realworld" / "certs"
CERTS = read_toml(CORPUS / "corpus.toml", "corpus", CasgateError)["cert"]
WINDOWS_ROOTS = Path(__file__).parents[1] / "casgate" / "data" / "windows-root-store"


@pytest.mark.parametrize("entry", CERTS, ids=[e["file"].split("/")[-1] for e in CERTS])
def test_real_certificate_is_judged_as_published(entry: dict) -> None:
    cert = read_certificate(CORPUS / entry["file"], entry["file"])

    assert cert.thumbprint == entry["sha1"]
    assert cert.self_signed is (entry["expect"] == "self-signed"), cert


def test_the_corpus_has_every_signature_algorithm_a_root_store_holds() -> None:
    roots = {e["signature"] for e in CERTS if e["expect"] == "self-signed"}
    for name in ("md2WithRSAEncryption", "md5WithRSAEncryption", "sha1WithRSAEncryption", "sha256WithRSAEncryption",
                 "sha384WithRSAEncryption", "ecdsa-with-SHA256", "ecdsa-with-SHA384"):
        assert name in roots
    assert any("Pss" in s or "PSS" in s for s in roots) and any("dsa" in s.lower() and "ecdsa" not in s.lower() for s in roots)
    assert {"ed25519", "ed448"} <= {s.lower() for s in roots}
    assert sum(e["expect"] == "not self-signed" for e in CERTS) >= 10


def test_only_md2_signatures_go_unchecked_and_they_say_so() -> None:
    unchecked = {e["file"] for e in CERTS
                 if isinstance(c := read_certificate(CORPUS / e["file"], e["file"]), Certificate)
                 and any(n.startswith("signature not checked") for n in c.notes)}
    assert unchecked == {e["file"] for e in CERTS if e["signature"] == "md2WithRSAEncryption"} | {
        e["file"] for e in CERTS if "GOST" in e.get("note", "") or "gost" in e["signature"].lower()}


def test_the_real_roots_pass_1a_and_one_real_intermediate_among_them_fails_it(tmp_path: Path) -> None:
    store = tmp_path / "root"
    shutil.copytree(CORPUS / "roots", store)
    clean = judge_root_store(load_store(store, "certs/root/"))
    r3 = next(e for e in CERTS if e["file"] == "not-roots/lets-encrypt-r3.pem")
    shutil.copy(CORPUS / r3["file"], store)

    polluted = judge_root_store(load_store(store, "certs/root/"))

    assert clean.outcome is Outcome.PASS
    assert polluted.outcome is Outcome.FAIL
    assert polluted.facts["not self-signed in Root"] == ("CN=R3,O=Let's Encrypt,C=US (" + r3["sha1"] + ")",)
    export = f"Export-Certificate -Type CERT -FilePath \"$backup\\{r3['sha1']}.cer\""
    assert polluted.remediation.index(export) < polluted.remediation.index(f"Remove-Item Cert:\\LocalMachine\\Root\\{r3['sha1']}")


def test_the_bundled_windows_root_store_is_all_self_signed(tmp_path: Path) -> None:
    for cer in WINDOWS_ROOTS.glob("*.cer"):
        (tmp_path / cer.name).write_bytes(cer.read_bytes())

    store = load_store(tmp_path, "certs/root/")

    assert judge_root_store(store).outcome is Outcome.PASS and len(store.certificates) >= 25
