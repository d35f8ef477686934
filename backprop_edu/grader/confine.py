"""Keep a student's process away from everything else: a seccomp filter, and Landlock.

Two kernel features, installed by jail.py in the student's process right before it
runs the harness, and inherited by anything that process does afterwards. Neither
can be removed once installed.

``confine()`` installs a seccomp filter that makes these system calls fail:

    kill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo   unless aimed at the process itself
                                                        (or, for kill, its own group)
    tkill, pidfd_open, pidfd_send_signal, pidfd_getfd   signals by thread id or pid file
    ptrace, process_vm_readv, process_vm_writev         reading or writing another process
    fork, vfork, clone without CLONE_THREAD             a new process: the check is one
                                                        process (threads are allowed), so
                                                        its memory limit is the whole check's
    clone3                                              (ENOSYS: the C library then uses clone)
    setsid, setpgid                                     leaving the process group
    socket, socketpair                                  any network or local socket: no way
                                                        to a server (a terminal multiplexer's,
                                                        a web server) nor to send anything
    unshare, setns, mount, umount2, pivot_root, chroot  rearranging its namespaces or files
    io_uring_*, bpf, perf_event_open, userfaultfd,      kernel interfaces a numpy function
    keyctl, add_key, request_key, open_by_handle_at,    never needs, some of which bypass
    name_to_handle_at, init/finit/delete_module         the rules above
    ioctl(TIOCSTI)                                      typing into a terminal

A system call of another ABI (32-bit calls on a 64-bit kernel) is refused too.

``landlock(read, write)`` (Linux 5.13 or later) lets the process open only the files
beneath the given paths: ``read`` for reading and running (the interpreter, the
standard library, numpy, its inputs), ``write`` for writing too (its private temporary
directory and its answers). Everything else (the teacher's home, the package's source,
other submissions, /proc/<pid>/mem of the grader) is refused. From Landlock ABI 6 it
also refuses signals to processes outside and abstract Unix sockets. jail.py uses it
when the kernel does not let it make namespaces.

What is left out: platforms other than Linux on x86-64 and arm64, where both
functions do nothing and return False/0; namespaces (jail.py).
"""

import ctypes
import os
import platform
import struct
import sys

# The system call numbers, per architecture (linux/arch/*/include/uapi/asm/unistd*.h).
# arm64 has no fork and vfork (the C library uses clone).
SYSCALLS = {
    "x86_64": {"arch": 0xC000003E, "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129,
               "rt_tgsigqueueinfo": 297, "tkill": 200, "pidfd_open": 434,
               "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 101,
               "process_vm_readv": 310, "process_vm_writev": 311, "setsid": 112,
               "setpgid": 109, "ioctl": 16, "fork": 57, "vfork": 58, "clone": 56,
               "clone3": 435, "socket": 41, "socketpair": 53, "unshare": 272, "setns": 308,
               "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
               "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "keyctl": 250,
               "add_key": 248, "request_key": 249, "open_by_handle_at": 304,
               "name_to_handle_at": 303, "init_module": 175, "finit_module": 313,
               "delete_module": 176},
    "aarch64": {"arch": 0xC00000B7, "kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138,
                "rt_tgsigqueueinfo": 240, "tkill": 130, "pidfd_open": 434,
                "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 117,
                "process_vm_readv": 270, "process_vm_writev": 271, "setsid": 157,
                "setpgid": 154, "ioctl": 29, "clone": 220, "clone3": 435, "socket": 198,
                "socketpair": 199, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39,
                "pivot_root": 41, "chroot": 51, "io_uring_setup": 425, "io_uring_enter": 426,
                "io_uring_register": 427, "bpf": 280, "perf_event_open": 241,
                "userfaultfd": 282, "keyctl": 219, "add_key": 217, "request_key": 218,
                "open_by_handle_at": 265, "name_to_handle_at": 264, "init_module": 105,
                "finit_module": 273, "delete_module": 106},
}
SYSCALLS["amd64"], SYSCALLS["arm64"] = SYSCALLS["x86_64"], SYSCALLS["aarch64"]

SIGNAL_SELF_ONLY = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first arg: a pid
ALWAYS_REFUSED = ("tkill", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "ptrace",
                  "process_vm_readv", "process_vm_writev", "setsid", "setpgid", "fork",
                  "vfork", "socket", "socketpair", "unshare", "setns", "mount", "umount2",
                  "pivot_root", "chroot", "io_uring_setup", "io_uring_enter",
                  "io_uring_register", "bpf", "perf_event_open", "userfaultfd", "keyctl",
                  "add_key", "request_key", "open_by_handle_at", "name_to_handle_at",
                  "init_module", "finit_module", "delete_module")
TIOCSTI = 0x5412
CLONE_THREAD = 0x00010000
X32_BIT = 0x40000000  # the x32 ABI's system calls carry this bit

# Classic BPF, as seccomp runs it (linux/filter.h, linux/seccomp.h).
LOAD = 0x20          # BPF_LD | BPF_W | BPF_ABS: A = the 32-bit word at offset k of seccomp_data
JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JUMP_IF_ANY_BIT = 0x45   # BPF_JMP | BPF_JSET | BPF_K
RETURN = 0x06        # BPF_RET | BPF_K
ALLOW = 0x7FFF0000   # SECCOMP_RET_ALLOW
REFUSE = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
NO_SUCH_CALL = 0x00050000 | 38  # SECCOMP_RET_ERRNO | ENOSYS
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
        if name in numbers:
            p += [instruction(JUMP_IF_EQUAL, numbers[name], 0, 1), instruction(RETURN, REFUSE)]
    p += [instruction(JUMP_IF_EQUAL, numbers["clone3"], 0, 1), instruction(RETURN, NO_SUCH_CALL)]
    # clone: a thread (CLONE_THREAD in its flags) is allowed, a new process is not
    p += [instruction(JUMP_IF_EQUAL, numbers["clone"], 0, 4), instruction(LOAD, ARG0),
          instruction(JUMP_IF_ANY_BIT, CLONE_THREAD, 0, 1), instruction(RETURN, ALLOW),
          instruction(RETURN, REFUSE), instruction(LOAD, NR)]
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


def libc():
    library = ctypes.CDLL(None, use_errno=True)
    library.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    library.syscall.restype = ctypes.c_long
    return library


def no_new_privileges():
    """prctl(PR_SET_NO_NEW_PRIVS): no set-uid program can give this process more rights."""
    return supported() and libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def confine():
    """Install the filter in this process (before exec). True if it did."""
    if not supported() or not no_new_privileges():
        return False
    code = b"".join(program(SYSCALLS[platform.machine().lower()], os.getpid()))
    filters = ctypes.create_string_buffer(code, len(code))

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Program(len(code) // 8, ctypes.addressof(filters))
    return libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) == 0


# Landlock (linux/landlock.h): the same system call numbers on x86-64 and arm64.
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION, RULE_PATH_BENEATH = 1, 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
ALL_FS_V1 = (1 << 13) - 1    # execute ... make_sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV


def landlock_version():
    """The kernel's Landlock ABI version, 0 when it has none (or it is turned off)."""
    if not supported():
        return 0
    version = libc().syscall(CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    return max(int(version), 0)


def handled_rights(version):
    rights = ALL_FS_V1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


def landlock(read, write):
    """Let this process open only what lies beneath ``read`` (read, list, run) and ``write``
    (also create, change, remove): the Landlock ABI version in force, 0 if none."""
    version = landlock_version()
    if version == 0:
        return 0
    handled = handled_rights(version)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0
    attribute = struct.pack("QQQ", handled, 0, scoped)[:24 if version >= 6 else 8]
    library = libc()
    ruleset = library.syscall(CREATE_RULESET, attribute, len(attribute), 0)
    if ruleset < 0:
        return 0
    try:
        for paths, rights in ((read, EXECUTE | READ_FILE | READ_DIR), (write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path that is not there needs no rule
                allowed = rights & handled
                if not os.path.isdir(path):
                    allowed &= FILE_RIGHTS
                rule = struct.pack("=Qi", allowed, fd)  # struct landlock_path_beneath_attr
                result = library.syscall(ADD_RULE, ruleset, RULE_PATH_BENEATH, rule, 0)
                os.close(fd)
                if result != 0:
                    return 0
        if not no_new_privileges() or library.syscall(RESTRICT_SELF, ruleset, 0) != 0:
            return 0
    finally:
        os.close(ruleset)
    return version
