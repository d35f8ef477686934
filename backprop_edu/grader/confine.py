"""Keep a student's process away from the grader: no signals to other processes, no new session.

The sandbox's child runs as the same user as the grader, and a process may
signal any process of its own user: one line, os.kill(os.getppid(), 9), would
kill the grader (and a teacher's grading loop with it). ``confine()`` installs
a seccomp filter in the child, before it runs any of the student's code, that
makes these system calls fail with EPERM:

    kill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo   unless aimed at the child itself
                                                        (or, for kill, its own group)
    tkill, pidfd_open, pidfd_send_signal, pidfd_getfd   signals by thread id or pid file
    ptrace, process_vm_readv, process_vm_writev         reading or writing another process
    setsid, setpgid                                     leaving the process group that the
                                                        grader kills when the check is over
    ioctl(TIOCSTI)                                      typing into a terminal

The filter is inherited by everything the child starts, and cannot be removed.
A system call of another ABI (32-bit calls on a 64-bit kernel) is refused too.

What is left out: file-system and network isolation (see sandbox.py), and
platforms other than Linux on x86-64 and arm64, where ``confine()`` does nothing
and returns False.
"""

import ctypes
import os
import platform
import struct
import sys

# The system call numbers, per architecture (linux/arch/*/include/uapi/asm/unistd*.h).
SYSCALLS = {
    "x86_64": {"arch": 0xC000003E, "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129,
               "rt_tgsigqueueinfo": 297, "tkill": 200, "pidfd_open": 434,
               "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 101,
               "process_vm_readv": 310, "process_vm_writev": 311, "setsid": 112,
               "setpgid": 109, "ioctl": 16},
    "aarch64": {"arch": 0xC00000B7, "kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138,
                "rt_tgsigqueueinfo": 240, "tkill": 130, "pidfd_open": 434,
                "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 117,
                "process_vm_readv": 270, "process_vm_writev": 271, "setsid": 157,
                "setpgid": 154, "ioctl": 29},
}
SYSCALLS["amd64"], SYSCALLS["arm64"] = SYSCALLS["x86_64"], SYSCALLS["aarch64"]

SIGNAL_SELF_ONLY = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first arg: a pid
ALWAYS_REFUSED = ("tkill", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "ptrace",
                  "process_vm_readv", "process_vm_writev", "setsid", "setpgid")
TIOCSTI = 0x5412
X32_BIT = 0x40000000  # the x32 ABI's system calls carry this bit

# Classic BPF, as seccomp runs it (linux/filter.h, linux/seccomp.h).
LOAD = 0x20          # BPF_LD | BPF_W | BPF_ABS: A = the 32-bit word at offset k of seccomp_data
JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
RETURN = 0x06        # BPF_RET | BPF_K
ALLOW = 0x7FFF0000   # SECCOMP_RET_ALLOW
REFUSE = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
NR, ARCH, ARG0, ARG1 = 0, 4, 16, 24  # offsets in struct seccomp_data (little-endian low words)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def instruction(code, k, jump_true=0, jump_false=0):
    return struct.pack("HBBI", code, jump_true, jump_false, k)


def program(numbers, pid):
    """The filter as a list of BPF instructions, for the process ``pid``."""
    p = [instruction(LOAD, ARCH), instruction(JUMP_IF_EQUAL, numbers["arch"], 1, 0),
         instruction(RETURN, REFUSE),                                  # another ABI
         instruction(LOAD, NR), instruction(JUMP_IF_AT_LEAST, X32_BIT, 0, 1),
         instruction(RETURN, REFUSE)]
    for name in ALWAYS_REFUSED:
        p += [instruction(JUMP_IF_EQUAL, numbers[name], 0, 1), instruction(RETURN, REFUSE)]
    for name in SIGNAL_SELF_ONLY:  # allowed when the target is this process (or, 0, its group)
        p += [instruction(JUMP_IF_EQUAL, numbers[name], 0, 5), instruction(LOAD, ARG0),
              instruction(JUMP_IF_EQUAL, pid, 2, 0), instruction(JUMP_IF_EQUAL, 0, 1, 0),
              instruction(RETURN, REFUSE), instruction(RETURN, ALLOW)]
    p += [instruction(JUMP_IF_EQUAL, numbers["ioctl"], 0, 3), instruction(LOAD, ARG1),
          instruction(JUMP_IF_EQUAL, TIOCSTI, 0, 1), instruction(RETURN, REFUSE),
          instruction(RETURN, ALLOW)]
    return p


def supported():
    return sys.platform.startswith("linux") and platform.machine().lower() in SYSCALLS


def confine():
    """Install the filter in this process (the sandbox's child, before exec). True if it did."""
    if not supported():
        return False
    code = b"".join(program(SYSCALLS[platform.machine().lower()], os.getpid()))
    filters = ctypes.create_string_buffer(code, len(code))

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Program(len(code) // 8, ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) == 0
