"""The log search split between two processes: a forked child searches a mapped file's second half. Given a file
with matches on both sides of the split (and straddling it), when it is searched split, by one process, with a
child that fails, or where fork is not available, then every offset is the same. Forks run in a fresh
single-threaded interpreter (a pytest-xdist worker has threads, where casgate never forks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from casgate.logs import _search
from tests.conftest import REPO

NEEDLES = (b"\n#", b"\x00#", b"certauth")
# the child's half of the work is done by _positions; the parent records each range it searches itself
SPLIT_RUN = r'''
import json, os, sys
from casgate.logs import _search
mode, path = sys.argv[1], sys.argv[2]
_search._SPLIT, _search._WINDOW = 1, 64
_search._idle_core = lambda: True  # the machine's load must not decide what this test exercises
forks, ranges = [], []
real_fork, real_positions = os.fork, _search.Haystack._positions
def fork():
    forks.append(1)
    return real_fork()
def positions(self, needles, lo, hi, end, uncased):
    if forks and os.getpid() == parent:
        ranges.append([lo, hi])
    return real_positions(self, needles, lo, hi, end, uncased)
def broken_answer(found):
    return b"\x01\x02\x03"
def failing_answer(found):
    raise MemoryError("a child that cannot answer")
parent = os.getpid()
os.fork, _search.Haystack._positions = fork, positions
if mode == "garbage":
    _search._encode = broken_answer
elif mode == "raises":
    _search._encode = failing_answer
hay = _search.Haystack.of_file(path)
found = hay.positions((b"\n#", b"\x00#", b"certauth"), hay.size, frozenset({b"certauth"}))
hay.close()
try:
    os.waitpid(-1, os.WNOHANG)
    reaped = False
except ChildProcessError:  # no child left, not even a zombie
    reaped = True
print(json.dumps({"found": found, "forks": len(forks), "ranges": ranges, "size": os.path.getsize(path), "reaped": reaped}))
'''


def _log(tmp_path: Path) -> Path:
    """Directives, NUL padding and certauth in any case spread over the file, one match straddling its middle."""
    parts = [b"#Software: IIS\r\n#Fields: date time cs-uri-stem sc-status\r\n"]
    for i in range(300):
        stem = (b"/shoreauth/certauth", b"/ShoreAuth/CERTAUTH", b"/director/")[i % 3]
        parts.append(b"2026-11-20 05:00:%02d %s 403\r\n" % (i % 60, stem))
        if i % 97 == 0:
            parts.append(b"\x00" * 7 + b"#Fields: date time cs-uri-stem sc-status\r\n")
    data = b"".join(parts)
    middle = len(data) // 2
    data = data[:middle] + b"CertAuth" + data[middle:]  # the new middle falls inside it
    path = tmp_path / "u_ex.log"
    path.write_bytes(data)
    return path


def _expected(path: Path) -> list[list[int]]:
    data = path.read_bytes()
    folded = data.lower()
    return [[i for i in range(len(data)) if (folded if n == b"certauth" else data).startswith(n, i)] for n in NEEDLES]


def _split_run(path: Path, mode: str, backend: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("CASGATE_PURE_PYTHON", None)
    if backend == "python":
        env["CASGATE_PURE_PYTHON"] = "1"
    run = subprocess.run([sys.executable, "-c", SPLIT_RUN, mode, str(path)], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    return json.loads(run.stdout)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only; the one-process path is tested below")
@pytest.mark.parametrize("backend", ["stringzilla", "python"])
@pytest.mark.parametrize("mode", ["answers", "garbage", "raises"])
def test_split_search_finds_every_offset_whatever_the_child_does(tmp_path: Path, backend: str, mode: str) -> None:
    path = _log(tmp_path)

    run = _split_run(path, mode, backend)

    middle = run["size"] // 2
    assert run["found"] == _expected(path)
    assert any(at < middle < at + 8 for at in run["found"][2])  # the straddling match, found once
    assert run["forks"] == 1 and run["reaped"]
    # a good answer spares the parent the second half; a bad one makes the parent search it itself
    assert run["ranges"] == ([[0, middle]] if mode == "answers" else [[0, middle], [middle, run["size"]]])


def test_without_fork_one_process_searches_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _log(tmp_path)
    monkeypatch.setattr(_search, "_SPLIT", 1)
    monkeypatch.delattr(os, "fork", raising=False)  # as on Windows

    hay = _search.Haystack.of_file(str(path))
    try:
        found = hay.positions(NEEDLES, hay.size, frozenset({b"certauth"}))
    finally:
        hay.close()

    assert not _search._can_fork()
    assert found == _expected(path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_thread_running_beside_the_search_keeps_it_in_one_process() -> None:
    """A Python thread, and a thread Python does not know of (the interpreter's faulthandler watchdog, a C thread)."""
    script = ("import faulthandler, sys, threading, time; from casgate.logs import _search; alone = _search._can_fork(); "
              "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start(); python_thread = _search._can_fork(); "
              "stop.set(); t.join(); faulthandler.dump_traceback_later(60); time.sleep(0.1); c_thread = _search._can_fork(); "
              "faulthandler.cancel_dump_traceback_later(); print(alone, python_thread, c_thread)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))

    alone, python_thread, c_thread = run.stdout.split()
    assert (alone, python_thread) == ("True", "False")
    assert c_thread == ("False" if Path("/proc/self/task").is_dir() else "True")


@pytest.mark.parametrize(("answer", "why"), [
    (b"", "empty"),
    (_search._encode([[5], [], [7, 9]])[:-8], "an offset short"),
    (_search._encode([[5], [], [7, 9]]) + b"\0" * 8, "an offset too many"),
    (_search._encode([[5], [], [7, 99]]), "an offset past the half"),
    (_search._encode([[4], [], [7, 9]]), "an offset before the half"),
    (array("q", [-1, 1, 2, 7, 9]).tobytes(), "a negative count"),
])
def test_a_malformed_answer_from_the_child_is_refused(answer: bytes, why: str) -> None:
    assert _search._decode(_search._encode([[5], [], [7, 9]]), 3, 5, 10) == [[5], [], [7, 9]]
    assert _search._decode(answer, 3, 5, 10) is None, why


def test_the_command_gives_the_same_json_split_or_not_on_the_real_world_corpus(tmp_path: Path) -> None:
    """Full attribution of the real-world IIS corpus, every file searched split and every file in one process."""
    script = ("import atexit, os, sys; from casgate.logs import _search; from casgate.logs.__main__ import main; "
              "_search._SPLIT, _search._WINDOW = int(sys.argv[1]), 256; _search._idle_core = lambda: True; "
              "forks = []; real = os.fork; "
              "os.fork = lambda: forks.append(1) or real(); atexit.register(lambda: print(len(forks), file=sys.stderr)); "
              "sys.exit(main(sys.argv[2:]))")
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def command(split: int) -> tuple[str, int]:
        run = subprocess.run([sys.executable, "-c", script, str(split), str(REPO / "tests" / "realworld" / "iis"), "--json"],
                             capture_output=True, text=True, env=env, cwd=REPO, check=False)
        assert run.returncode in (1, 3), run.stderr
        return run.stdout, int(run.stderr.split()[-1])

    (split, forks), (whole, none) = command(1), command(1 << 62)
    assert split == whole and json.loads(split)["files"] >= 13
    assert forks >= 13 and none == 0


def test_a_busy_machine_keeps_the_search_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _log(tmp_path)
    monkeypatch.setattr(_search, "_SPLIT", 1)
    monkeypatch.setattr(_search, "_idle_core", lambda: False)
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked with no core free"), raising=False)

    hay = _search.Haystack.of_file(str(path))
    try:
        found = hay.positions(NEEDLES, hay.size, frozenset({b"certauth"}))
    finally:
        hay.close()

    assert found == _expected(path)
