"""A seccomp filter for the sandbox (bwrap ``--seccomp``): system calls that unprivileged
code has no use for inside and that have been the way in for kernel exploits (io_uring,
bpf, userfaultfd, keyrings, perf events, mount and namespace calls, ptrace and reading
other processes' memory, module and kexec loading) fail with EPERM, as do x32 calls; a
32-bit call (``int 0x80``) kills the process. Built by hand as classic BPF, x86_64 only:
elsewhere there is no filter (docs/sandbox.md)."""

from __future__ import annotations

import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
RET_K = 0x06

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl)
DENIED = {
    "uselib": 134, "ptrace": 101, "syslog": 103, "vhangup": 153, "modify_ldt": 154, "pivot_root": 155,
    "acct": 163, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169,
    "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179,
    "lookup_dcookie": 212, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
    "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303, "open_by_handle_at": 304,
    "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}


def _op(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def deny_filter() -> bytes | None:
    """The BPF program (``struct sock_filter[]``), or None on a machine it is not written for."""
    if platform.machine() != "x86_64":
        return None
    numbers = sorted(DENIED.values())
    deny = 5 + len(numbers) + 1  # index of the EPERM return
    prog = [
        _op(LD_W_ABS, 0, 0, 4),  # arch
        _op(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _op(RET_K, 0, 0, RET_KILL_PROCESS),
        _op(LD_W_ABS, 0, 0, 0),  # syscall number
        _op(JGE_K, deny - 5, 0, X32_BIT),
    ]
    for i, nr in enumerate(numbers):
        prog.append(_op(JEQ_K, deny - (5 + i + 1), 0, nr))
    prog.append(_op(RET_K, 0, 0, RET_ALLOW))
    prog.append(_op(RET_K, 0, 0, RET_ERRNO | errno.EPERM))
    assert len(prog) == deny + 1
    return b"".join(prog)
