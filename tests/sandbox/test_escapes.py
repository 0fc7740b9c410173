"""Hostile code, each attempt contained: no network, no host files, no runaway processes,
memory, CPU, time or disk, no way out through the parent, no view of another session."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.sandbox import SandboxPool


def session() -> str:
    return f"s-{uuid.uuid4().hex}"


async def still_works(pool: SandboxPool, sid: str) -> None:
    result = await pool.execute(sid, "2 + 2")
    assert (result.status, result.result) == ("ok", "4"), result.logs


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[str]]]:
    """A real server on the host's loopback, recording every connection it gets."""
    seen: list[str] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(str(writer.get_extra_info("peername")))
        writer.write(b"hello from the host\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, seen
    server.close()
    await server.wait_closed()


async def test_no_connection_reaches_the_hosts_loopback(pool: SandboxPool, listener: tuple[int, list[str]]) -> None:
    port, seen = listener
    result = await pool.execute(session(), f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), "
                                           "timeout=3)\ns.recv(100)")
    assert result.error is not None and result.error.name == "ConnectionRefusedError", result.logs
    await asyncio.sleep(0)
    assert seen == []


async def test_no_connection_reaches_outside(pool: SandboxPool) -> None:
    code = ("import socket\nout = []\n"
            "for host in ('1.1.1.1', '8.8.8.8', '10.0.0.1'):\n"
            "    try:\n"
            "        socket.create_connection((host, 53), timeout=2)\n"
            "        out.append('connected ' + host)\n"
            "    except OSError as e:\n"
            "        out.append(type(e).__name__)\n"
            "try:\n    socket.getaddrinfo('pypi.org', 443)\n    out.append('resolved')\n"
            "except OSError as e:\n    out.append('no dns')\n"
            "import os\nout.append(sorted(os.listdir('/sys/class/net')) if os.path.exists('/sys/class/net') "
            "else 'no sysfs')\nout")
    result = await pool.execute(session(), code)
    assert result.status == "ok", result.logs
    assert result.result is not None and "connected" not in result.result and "resolved" not in result.result
    assert "OSError" in result.result and "no dns" in result.result


async def test_host_files_are_out_of_sight(pool: SandboxPool, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "switchyard.db").write_text("SECRET-ROW-7d1c")
    os.chmod(tmp_path, 0o755)
    os.chmod(data_dir, 0o755)
    os.chmod(data_dir / "switchyard.db", 0o644)  # readable even by nobody on the host: still unseen
    code = ("import os\nout = {}\n"
            f"for path in ('/etc/shadow', '/etc/passwd', '{data_dir}/switchyard.db', '/root', '/home', "
            "'/work', '/var', '/proc/1/root/etc/shadow', '/sys/fs/cgroup'):\n"
            "    try:\n"
            "        out[path] = open(path).read()[:50] if os.path.isfile(path) else os.listdir(path)\n"
            "    except OSError as e:\n"
            "        out[path] = type(e).__name__\n"
            "out['/'] = sorted(os.listdir('/'))\nout['/etc'] = sorted(os.listdir('/etc'))\nout")
    result = await pool.execute(session(), code)
    assert result.status == "ok", result.logs
    assert result.result is not None
    assert "SECRET-ROW" not in result.result and "root:" not in result.result
    seen = eval(result.result)  # a dict of strings and lists, from our own code's repr
    assert seen["/etc/shadow"] == "FileNotFoundError" and seen[f"{data_dir}/switchyard.db"] == "FileNotFoundError"
    assert seen["/"] == ["bin", "dev", "etc", "lib", "lib64", "mnt", "opt", "proc", "sbin", "tmp", "usr"]
    assert "shadow" not in seen["/etc"] and "passwd" not in seen["/etc"]
    # nothing but /mnt/data and /tmp can be written
    write = await pool.execute(session(), "open('/usr/evil', 'w')")
    assert write.error is not None and write.error.name in ("OSError", "PermissionError")


async def test_a_fork_bomb_is_contained(pool: SandboxPool) -> None:
    sid = session()
    result = await pool.execute(sid, "import os\nwhile True:\n    os.fork()")
    assert result.status in ("error", "timeout", "killed"), result.logs
    if result.error is not None:
        assert result.error.name == "BlockingIOError"
    shell = await pool.execute(sid, "import subprocess\nsubprocess.run(['bash', '-c', ':(){ :|:& };:'], timeout=4)")
    assert shell.status in ("ok", "error", "timeout", "killed")
    await still_works(pool, sid)
    # the host still forks, and the bomb's processes are gone: a call's processes end with it
    assert subprocess.run(["true"]).returncode == 0
    count = "import os\nlen([p for p in os.listdir('/proc') if p.isdigit()])"
    for _ in range(50):  # killed at once; their zombies are reaped by PID 1 as their deaths come in
        if (await pool.execute(sid, count)).result == "2":  # the supervisor and the kernel
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the bomb's processes outlived the call")


async def test_memory_past_the_limit_is_refused(pool: SandboxPool) -> None:
    sid = session()
    await pool.execute(sid, "kept = 'still here'")
    result = await pool.execute(sid, "block = bytearray(2 * 1024**3)")
    assert result.error is not None and result.error.name == "MemoryError", result.logs
    grow = await pool.execute(sid, "chunks = []\nwhile True:\n    chunks.append(b'x' * 10_000_000)")
    assert grow.status in ("error", "killed"), grow.logs
    if grow.status == "error":
        assert grow.error is not None and grow.error.name == "MemoryError"
        await pool.execute(sid, "del chunks")
        assert (await pool.execute(sid, "kept")).result == "'still here'"
    await still_works(pool, sid)


async def test_an_infinite_loop_hits_the_cpu_limit_and_a_sleep_the_wall_clock(pool: SandboxPool) -> None:
    sid = session()
    await pool.put_file(sid, "keep.txt", b"files survive a reset")
    await pool.execute(sid, "state = 1")
    spin = await pool.execute(sid, "while True:\n    pass")
    assert spin.status == "killed" and spin.reason is not None and "CPU time limit" in spin.reason, spin
    assert (await pool.execute(sid, "state")).error is not None  # the kernel was reset...
    assert await pool.get_file(sid, "keep.txt") == b"files survive a reset"  # ...its files kept
    sleep = await pool.execute(sid, "import time\ntime.sleep(3600)", timeout=1.5)
    assert sleep.status == "timeout" and 1.5 <= sleep.seconds < 5, sleep
    daemon = await pool.execute(sid, "import subprocess\nsubprocess.Popen(['sleep', '3600'])\n"
                                     "import time\ntime.sleep(3600)", timeout=1.0)
    assert daemon.status == "timeout"
    procs = await pool.execute(sid, "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())")
    assert procs.result is not None and len(eval(procs.result)) == 2  # the supervisor and the kernel
    await still_works(pool, sid)


async def test_huge_files_and_a_full_disk_are_refused(pool: SandboxPool) -> None:
    sid = session()
    big = await pool.execute(sid, "with open('big.bin', 'wb') as f:\n    f.write(b'x' * (64 * 1024**2))")
    assert big.error is not None and "File too large" in big.error.value, big.logs
    fill = await pool.execute(sid, "i = 0\nwhile True:\n    open(f'part{i}.bin', 'wb').write(b'x' * (4 * 1024**2))\n"
                                   "    i += 1")
    assert fill.error is not None and "No space left" in fill.error.value, fill.logs
    tmp = await pool.execute(sid, "open('/tmp/t.bin', 'wb').write(b'x' * (30 * 1024**2))")
    assert tmp.error is not None, tmp.logs
    shm = await pool.execute(sid, "open('/dev/shm/s.bin', 'wb').write(b'x' * (30 * 1024**2))")
    assert shm.error is not None, shm.logs
    dev = await pool.execute(sid, "open('/dev/new', 'wb').write(b'x')")
    assert dev.error is not None and "Read-only" in dev.error.value, dev.logs
    null = await pool.execute(sid, "open('/dev/null', 'w').write('fine')")
    assert null.status == "ok", null.logs
    await still_works(pool, sid)


async def test_killing_the_parent_or_everything_is_contained(pool: SandboxPool) -> None:
    sid = session()
    await pool.put_file(sid, "keep.txt", b"kept")
    parent = await pool.execute(sid, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                     "os.kill(1, signal.SIGTERM)\nos.getppid()")
    assert (parent.status, parent.result) == ("ok", "1"), parent.logs  # PID 1 ignores its own sandbox
    everyone = await pool.execute(sid, "import subprocess\nsubprocess.run(['kill', '-9', '-1'])")
    assert everyone.status == "killed", everyone
    group = await pool.execute(sid, "import os\nos.killpg(0, 9)")
    assert group.status == "killed", group
    assert await pool.get_file(sid, "keep.txt") == b"kept"
    await still_works(pool, sid)


async def test_one_session_cannot_see_anothers_files_or_processes(pool: SandboxPool) -> None:
    mine, theirs = session(), session()
    await pool.put_file(theirs, "private.txt", b"THEIR-SECRET-91")
    await pool.execute(theirs, "import subprocess\np = subprocess.Popen(['sleep', '30'])\n"
                               "open('/tmp/also-private', 'w').write('THEIR-SECRET-92')")
    code = ("import os\nfound = []\n"
            "for top in ('/mnt', '/tmp', '/proc'):\n"
            "    for root, dirs, files in os.walk(top):\n"
            "        if root.startswith('/proc/') and root.count('/') > 2:\n"
            "            dirs[:] = []\n"
            "        for name in files:\n"
            "            if name in ('private.txt', 'also-private'):\n"
            "                found.append(os.path.join(root, name))\n"
            "cmdlines = [open(f'/proc/{p}/cmdline','rb').read() for p in os.listdir('/proc') if p.isdigit()]\n"
            "found, [c for c in cmdlines if b'sleep' in c]")
    result = await pool.execute(mine, code)
    assert (result.status, result.result) == ("ok", "([], [])"), result.logs
    assert await pool.get_file(theirs, "private.txt") == b"THEIR-SECRET-91"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the seccomp filter is written for x86_64")
async def test_risky_system_calls_are_refused(pool: SandboxPool) -> None:
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nout = {}\n"
            "for name, nr in (('bpf', 321), ('io_uring_setup', 425), ('userfaultfd', 323), ('keyctl', 250),\n"
            "                 ('unshare', 272), ('setns', 308), ('ptrace', 101), ('mount', 165),\n"
            "                 ('perf_event_open', 298), ('process_vm_readv', 310)):\n"
            "    ctypes.set_errno(0)\n"
            "    out[name] = (libc.syscall(nr, 0, 0, 0, 0, 0), ctypes.get_errno())\n"
            "ctypes.set_errno(0)\nout['getppid'] = (libc.syscall(110), ctypes.get_errno())\nout")
    result = await pool.execute(session(), code)
    assert result.status == "ok" and result.result is not None, result.logs
    seen = eval(result.result)
    assert seen.pop("getppid") == (1, 0)  # an ordinary call still works
    assert seen and all(v == (-1, 1) for v in seen.values()), seen  # EPERM


async def test_flooding_or_forging_the_protocol_harms_only_the_session_itself(pool: SandboxPool) -> None:
    sid = session()
    writer = ("import os\n"
              "def to_pipes(data):\n"
              "    for fd in range(3, 64):\n"
              "        try:\n"
              "            if os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
              "                os.write(fd, data)\n"
              "        except OSError:\n"
              "            pass\n")
    await pool.execute(sid, writer)
    forged = await pool.execute(sid, "to_pipes(b'not json\\n{\"type\": \"reply\", \"id\": \"x\"}\\n[1, 2]\\n')\n"
                                     "'after the noise'")
    assert (forged.status, forged.result) == ("ok", "'after the noise'"), forged.logs
    flooded = await pool.execute(sid, "to_pipes(b'x' * (40 * 1024**2))")
    assert flooded.status == "killed", flooded  # the host ended that sandbox...
    await still_works(pool, sid)  # ...and the session goes on in a new one
    await still_works(pool, session())
