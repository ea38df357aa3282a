"""Real .reg files nobody here wrote (tests/realworld/registry, provenance in its corpus.toml): a real reg export of
an untouched server, an IIS Crypto-style hardening file, and an IIS Crypto backup that deletes keys. Each gives the
TLS 1.0 and cipher-suite state its corpus entry records, or, for a file that deletes, a clear refusal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casgate.errors import CasgateError, EvidenceError
from casgate.regfile import load_registry
from casgate.schannel import TLS10_SERVER, cipher_policy, tls10_server_state
from casgate.tomlfile import read_toml

CORPUS = Path(__file__).parent / "realworld" / "registry"
REGS = read_toml(CORPUS / "corpus.toml", "corpus", CasgateError)["reg"]
BASE = "psssl-schannel.reg"  # a real `reg export` of SCHANNEL: what every snapshot's registry/ starts from
SERVER_2019 = "Microsoft Windows Server 2019 Standard 10.0.17763"


@pytest.mark.parametrize("entry", REGS, ids=[e["file"] for e in REGS])
def test_real_reg_file_over_a_real_export(tmp_path: Path, entry: dict) -> None:
    shutil.copy(CORPUS / BASE, tmp_path / "0-schannel.reg")
    shutil.copy(CORPUS / entry["file"], tmp_path / f"1-{entry['file']}")

    if entry["deletes"]:
        with pytest.raises(EvidenceError, match=r"deletes a (key|value) .*: a \.reg script"):
            load_registry(tmp_path, "registry/")
        return
    registry = load_registry(tmp_path, "registry/")

    values = {name: registry.value(TLS10_SERVER, name) for name in ("Enabled", "DisabledByDefault")}
    assert {k: v for k, v in values.items() if v is not None} == entry["tls10_server"]
    state = tls10_server_state(registry, SERVER_2019)
    assert state.enabled is (entry["tls10_server"].get("Enabled", 1) != 0 and entry["tls10_server"].get("DisabledByDefault", 0) == 0)
    policy = cipher_policy(registry)
    assert (list(policy.suites) if policy else []) == entry["cipher_suites"]


def test_the_corpus_has_utf16_and_ansi_files_and_a_hex7_policy() -> None:
    encodings = {e["encoding"].split(",")[0] for e in REGS}
    assert "utf-16-le with BOM" in encodings and any(e.startswith("ascii") for e in encodings)
    assert any(e["cipher_suites"] for e in REGS)
