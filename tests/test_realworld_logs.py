"""IIS logs nobody here wrote (tests/realworld/iis, provenance in its corpus.toml): read as published, and with one
real line turned into a certauth 403.16 under each real #Fields selection. Every log gives the expected per-phone
count, or an error naming the field its #Fields lacks; never a silent pass."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from casgate.checks.iis_log import judge_certauth_log, scan_certauth
from casgate.errors import EvidenceError
from casgate.logs.attribution import NO_CLIENT_IP
from casgate.errors import CasgateError
from casgate.snapshot import LogFile
from casgate.tomlfile import read_toml
from casgate.verdict import Outcome
from casgate.window import Window
from tests.test_logs import _registry

CORPUS = Path(__file__).parent / "realworld" / "iis"
LOGS = read_toml(CORPUS / "corpus.toml", "corpus", CasgateError)["log"]
EVER = Window(datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))


def _judge(path: Path):
    return judge_certauth_log(scan_certauth([LogFile(path.name, path)], _registry(), EVER), EVER, "hint")


def _per_phone(evidence: tuple[str, ...]) -> dict[str, int]:
    """{"10.169.24.139": 3} from the evidence lines "[cause 1] 10.169.24.139: 3 x 403.16 ..."."""
    counts = {}
    for line in evidence:
        if line.startswith("[cause 1] "):
            phone, rest = line.removeprefix("[cause 1] ").split(": ", 1)
            counts[phone] = int(rest.split(" x ")[0])
    return counts


@pytest.mark.parametrize("entry", LOGS, ids=[e["file"] for e in LOGS])
def test_real_log_as_published(entry: dict) -> None:
    if not {"cs-uri-stem", "sc-status"} <= set(entry["fields"]):  # HTTPERR: a log that cannot show certauth answers
        with pytest.raises(EvidenceError, match="its #Fields: lacks cs-uri-stem, so it cannot show certauth answers"):
            _judge(CORPUS / entry["file"])
        return
    verdict = _judge(CORPUS / entry["file"])

    assert _per_phone(verdict.evidence) == entry["rejections"]
    assert verdict.outcome is (Outcome.FAIL if entry["rejections"] else Outcome.PASS)
    assert any(f"{entry['certauth_lines']} certauth line(s) read" in line for line in verdict.evidence)


def _transplants() -> list[tuple[str, int, list[str], str]]:
    """(file, line index, that line's #Fields, the line) for the first line that fits each real #Fields block."""
    found = []
    for entry in LOGS:
        lines = (CORPUS / entry["file"]).read_bytes().decode("utf-8").splitlines(keepends=True)
        fields, taken = None, False
        for index, line in enumerate(lines):
            if line.startswith("#Fields:"):
                fields, taken = line[len("#Fields:"):].split(), False
            elif fields and not taken and not line.startswith("#") and len(line.rstrip("\r\n").split(" ")) == len(fields):
                found.append((entry["file"], index, fields, line))
                taken = True
    return found


TRANSPLANTS = _transplants()


@pytest.mark.parametrize(("file", "index", "fields", "line"), TRANSPLANTS, ids=[f"{t[0]}:{t[1] + 1}" for t in TRANSPLANTS])
def test_real_field_selection_with_a_certauth_403_16(tmp_path: Path, file: str, index: int, fields: list[str], line: str) -> None:
    values = line.rstrip("\r\n").split(" ")
    named = dict(zip(fields, values))
    stem = "cs-uri-stem" if "cs-uri-stem" in named else "cs-uri"
    for name, value in ((stem, "/ShoreAuth/CertAuth"), ("sc-status", "403"), ("sc-substatus", "16")):
        if name in named:
            values[fields.index(name)] = value
    lines = (CORPUS / file).read_bytes().decode("utf-8").splitlines(keepends=True)
    lines[index] = " ".join(values) + line[len(line.rstrip("\r\n")):]
    (tmp_path / file).write_text("".join(lines), encoding="utf-8", newline="")

    if "cs-uri-stem" not in named or "sc-substatus" not in named:
        missing = "cs-uri-stem" if "cs-uri-stem" not in named else "sc-substatus"
        with pytest.raises(EvidenceError, match=f"1 certauth line\\(s\\) not judged: the #Fields: at {file}:\\d+ lacks {missing}"):
            _judge(tmp_path / file)
        return
    verdict = _judge(tmp_path / file)
    assert verdict.outcome is Outcome.FAIL
    expected = {named.get("c-ip", NO_CLIENT_IP): 1}
    if file == "kb-lines.log":
        expected = {"10.169.24.139": 3}
    assert _per_phone(verdict.evidence) == expected


def test_the_corpus_covers_the_field_selections_that_matter() -> None:
    selections = {tuple(fields) for _, _, fields, _ in TRANSPLANTS}
    assert any("sc-substatus" not in s for s in selections)  # IIS lets administrators drop it
    assert any("cs-uri" in s and "cs-uri-stem" not in s for s in selections)  # HTTP Server API (HTTPERR)
    assert any("date" not in s for s in selections)  # the date from #Date
    assert any("c-ip" not in s for s in selections)
    assert len(selections) >= 8
