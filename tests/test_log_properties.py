"""Property tests (hypothesis, bounded) for the log readers: any bytes at all, as an IIS log, a phone log or a log
of unknown kind, plain or gzipped, give findings and named problems, never an exception; and in generated W3C logs
with any field selection and letter case, every certauth 403.16 is counted or named as not judged."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casgate.logs.attribution import Attribution

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOISE = st.binary(max_size=2048) | st.text(alphabet=st.sampled_from("#Fields: certauthCERTAUTH/shore 403 16\r\n\x00\ufeff-date time"), max_size=600).map(str.encode)


def _attribute(name: str, data: bytes, add: str) -> Attribution:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        attribution = Attribution()
        getattr(attribution, add)(name, path)
        return attribution


@SETTINGS
@given(data=NOISE, name=st.sampled_from(["u_ex1.log", "u_ex1.log.gz", "p.log"]), add=st.sampled_from(["add_iis", "add_phone", "add_any"]))
def test_any_bytes_give_findings_or_named_problems_never_an_exception(data: bytes, name: str, add: str) -> None:
    attribution = _attribute(name, data, add)

    assert all(isinstance(p, str) and p for p in attribution.problems())
    assert attribution.files == 1


OPTIONAL = ["s-ip", "cs-method", "cs-uri-query", "s-port", "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)",
            "sc-win32-status", "time-taken", "sc-bytes", "cs-host", "s-sitename"]
NEEDED = ["date", "time", "cs-uri-stem", "sc-status", "sc-substatus"]


@SETTINGS
@given(fields=st.permutations(NEEDED + OPTIONAL).flatmap(lambda p: st.integers(len(NEEDED), len(p)).map(lambda n: p[:n])),
       rows=st.lists(st.tuples(st.booleans(), st.sampled_from(["/shoreauth/certauth", "/ShoreAuth/CertAuth", "/SHOREAUTH/CERTAUTH"])), max_size=20),
       crlf=st.booleans())
def test_every_certauth_403_16_under_any_field_selection_is_counted_or_named(fields: list[str], rows: list[tuple[bool, str]], crlf: bool) -> None:
    values = {"date": "2026-11-20", "time": "05:00:00", "sc-status": "403", "sc-substatus": "16", "c-ip": "10.0.0.2"}
    lines = ["#Software: Microsoft Internet Information Services 10.0", "#Fields: " + " ".join(fields)]
    for rejected, stem in rows:
        row = values | {"cs-uri-stem": stem if rejected else "/director/", "sc-status": "403" if rejected else "200"}
        lines.append(" ".join(row.get(f, "-") for f in fields))
    end = "\r\n" if crlf else "\n"

    attribution = _attribute("u_ex1.log", (end.join(lines) + end).encode(), "add_iis")

    expected = sum(rejected for rejected, _ in rows)
    found = sum(f.count for f in attribution.findings())
    if all(f in fields for f in NEEDED):
        assert found == expected and not attribution.problems()
    elif "cs-uri-stem" not in fields or "sc-status" not in fields:
        assert found == 0 and any("cannot show certauth answers" in p for p in attribution.problems())  # blind, even with no certauth line
    else:
        assert found == 0 and (expected == 0 or attribution.problems())
