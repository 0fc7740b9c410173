"""What the code interpreter is for: state between calls, plots, files in and out."""

from __future__ import annotations

import asyncio
import time
import uuid

from switchyard.sandbox import SandboxError, SandboxPool


def session() -> str:
    return f"s-{uuid.uuid4().hex}"


async def test_globals_persist_between_calls_and_the_last_expression_is_shown(pool: SandboxPool) -> None:
    sid = session()
    first = await pool.execute(sid, "import math\nx = 6 * 7\nprint('set', x)")
    assert (first.status, first.stdout, first.result) == ("ok", "set 42\n", None)
    second = await pool.execute(sid, "def double(n):\n    return 2 * n\ndouble(x) + math.floor(0.5)")
    assert (second.status, second.result) == ("ok", "84")
    assert (await pool.execute(sid, "_ + 1")).result == "85"
    assert (await pool.execute(session(), "x")).error is not None  # another session has its own globals


async def test_an_exception_is_a_traceback_and_stderr_is_kept(pool: SandboxPool) -> None:
    result = await pool.execute(session(), "import sys\nprint('to err', file=sys.stderr)\n{}['missing']")
    assert result.status == "error" and result.error is not None
    assert result.error.name == "KeyError" and "'missing'" in result.error.value
    assert "<cell>" in result.error.traceback and "/opt/sandbox" not in result.error.traceback
    assert result.stderr == "to err\n"
    bad = await pool.execute(session(), "def broken(:\n  pass")
    assert bad.error is not None and bad.error.name == "SyntaxError"


async def test_output_of_child_processes_is_captured_and_capped(pool: SandboxPool) -> None:
    result = await pool.execute(session(), "import subprocess\nsubprocess.run(['echo', 'from a child'])\n"
                                           "print('y' * 100_000)")
    assert result.stdout.startswith("from a child\nyyy")
    assert "[output truncated at 4096 bytes]" in result.stdout and len(result.stdout) < 4300


async def test_a_matplotlib_figure_comes_back_as_a_png(pool: SandboxPool) -> None:
    result = await pool.execute(session(), "import matplotlib.pyplot as plt\nimport numpy as np\n"
                                           "x = np.linspace(0, 6, 50)\nplt.plot(x, np.sin(x))\nplt.title('sine')")
    assert result.status == "ok", result.logs
    assert len(result.images) == 1 and result.images[0].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(result.images[0]) > 5000
    again = await pool.execute(session(), "1")
    assert again.images == []  # figures are closed once returned


async def test_a_csv_put_in_is_read_by_pandas_and_a_written_file_is_listed_and_read_back(pool: SandboxPool) -> None:
    sid = session()
    info = await pool.put_file(sid, "sales.csv", b"region,amount\nnorth,10\nsouth,32\nnorth,5\n")
    assert (info.path, info.size) == ("sales.csv", 40)
    result = await pool.execute(sid, "import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\n"
                                     "totals = df.groupby('region').amount.sum()\n"
                                     "import os; os.makedirs('out', exist_ok=True)\n"
                                     "totals.to_csv('out/totals.csv')\nint(totals['south'])")
    assert (result.status, result.result) == ("ok", "32"), result.logs
    assert [f.path for f in result.files] == ["out/totals.csv"]
    assert result.files[0].modified > time.time() - 60
    assert await pool.get_file(sid, "out/totals.csv") == b"region,amount\nnorth,15\nsouth,32\n"
    assert sorted(f.path for f in await pool.list_files(sid)) == ["out/totals.csv", "sales.csv"]


async def test_large_files_cross_in_chunks(pool: SandboxPool) -> None:
    sid = session()
    data = bytes(range(256)) * (6 * 1024 * 1024 // 256)  # over one 4 MiB message
    await pool.put_file(sid, "blob.bin", data)
    assert (await pool.execute(sid, "len(open('blob.bin','rb').read())")).result == str(len(data))
    assert await pool.get_file(sid, "blob.bin") == data


async def test_bad_paths_and_missing_files_are_refused(pool: SandboxPool) -> None:
    sid = session()
    for path in ("../etc/passwd", "/etc/passwd", "", "a/../../x"):
        try:
            await pool.put_file(sid, path, b"x")
        except SandboxError as exc:
            assert exc.code == "invalid_path"
        else:
            raise AssertionError(f"{path!r} was accepted")
    try:
        await pool.get_file(sid, "nothing.txt")
    except SandboxError as exc:
        assert exc.code == "not_found"
    else:
        raise AssertionError("a missing file was read")


async def test_an_idle_session_is_reaped_and_a_new_one_starts_empty(pool: SandboxPool) -> None:
    sid = session()
    await pool.execute(sid, "kept = 1")
    assert pool.has_session(sid)
    await pool.reap(now=time.monotonic() + pool.settings.idle_seconds + 1)
    assert not pool.has_session(sid)
    result = await pool.execute(sid, "kept")
    assert result.error is not None and result.error.name == "NameError"


async def test_sessions_run_side_by_side_up_to_the_cap(pool: SandboxPool) -> None:
    ids = [session() for _ in range(pool.settings.max_sessions)]
    results = await asyncio.gather(*(pool.execute(sid, f"import os\n('{sid}', os.getpid())") for sid in ids))
    assert [r.result for r in results] == [f"('{sid}', 2)" for sid in ids]  # each its own PID namespace
    try:
        await pool.execute(session(), "1")
    except SandboxError as exc:
        assert exc.code == "busy"
    else:
        raise AssertionError("a session past max_sessions was opened")
    await pool.end_session(ids[0])
    assert (await pool.execute(session(), "1")).result == "1"  # room again
