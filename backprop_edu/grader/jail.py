"""Start the harness in a jail: its own namespaces, an unprivileged user, few files, no network.

sandbox.py runs this file as a script, with the interpreter's own standard library only:

    python -I -S jail.py PLAN.json

PLAN.json (written by sandbox.py) says what to run and what to show it. The jail
then does one of three things, the strongest the kernel allows:

namespaces   New mount, PID, network, IPC and UTS namespaces, and a user namespace.
             The harness sees a root file system made of a small read-only tmpfs and
             read-only bind mounts, at their own paths, of exactly what it needs (the
             interpreter, its standard library without site-packages, the system's
             libraries, numpy, the submission's copy, its inputs), a private writable
             HOME (its working directory) and one writable directory for its answers.
             No /proc, no /home, no /root, no backprop_edu, no other submission,
             no terminal-multiplexer socket; a network with no interface up. It runs as an
             unprivileged uid (PLAN's "uid" when the grader is root; the teacher's own uid,
             without any capability, otherwise) and is not PID 1: a small init (this
             script) waits for it, and the whole namespace dies with that init.
             As root: the mounts are made as root, then the process drops to the uid and
             makes its user namespace. As a normal user: an unprivileged user namespace
             first (where the kernel allows them), which makes the mounts possible.
landlock     Without namespaces: the process drops to PLAN's uid (root only), then Landlock
             lets it open only the same files, by their real paths.
none         Neither is available: only what follows.

In all three: the resource limits (address space, CPU time, file size, no core
file, open files), no new privileges, confine.py's seccomp filter (one process, no
sockets, no signals to others), a clean environment, and stdin from /dev/null.

Before the harness starts, the jail writes one line of JSON to the status pipe
(file descriptor PLAN["status_fd"]): {"isolation": ..., "protections": [...]}.
In the namespaces mode its init adds a last line when the harness is over:
{"exit": code} or {"signal": number}. A setup failure is a line {"error": "..."}
and exit code 121: the grader's fault, not the submission's.

What is left out: deciding what to mount (sandbox.py), the harness itself (harness.py).
"""

import ctypes
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confine  # noqa: E402 -- beside this file; the jail runs without the package

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 16384, 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP = 1, 24
PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41}
# statvfs flags -> the mount flags a read-only remount must keep (the kernel refuses to
# drop nosuid, nodev, noexec or an atime flag of a mount it locked)
KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
              (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
              (os.ST_RELATIME, MS_RELATIME))
SETUP_FAILED = 121

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.syscall.restype = ctypes.c_long


class SetupError(Exception):
    """The jail could not be built (a mount failed, ...): the grader's problem."""


def checked(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(error)}")


def mount(source, target, kind, flags, data=None):
    checked(libc.mount(source and source.encode(), target.encode(), kind and kind.encode(),
                       flags, data and data.encode()), f"mount {source} on {target}")


def bind(source, target, writable=False):
    """Bind-mount source at target (created as an empty file or directory), read-only
    unless ``writable``."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    mount(source, target, None, MS_BIND | MS_REC)
    if not writable:
        kept = os.statvfs(target).f_flag
        flags = sum(flag for st, flag in KEPT_FLAGS if kept & st)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def inside(root, path):
    return os.path.join(root, path.lstrip("/"))


def build_root(plan):
    """Mount the harness's file system on plan["root"] and make it the root: a read-only
    tmpfs holding bind mounts at the same paths as outside, so that every path in the
    plan means the same file inside and out."""
    root = plan["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the grader
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    for link, target in plan["links"]:  # e.g. /lib -> usr/lib on a merged-/usr system
        os.makedirs(os.path.dirname(inside(root, link)), exist_ok=True)
        os.symlink(target, inside(root, link))
    for source in plan["read"]:
        bind(source, inside(root, source))
    hidden = [inside(root, path) for path in plan["hidden"] if os.path.isdir(inside(root, path))]
    for target in hidden:  # e.g. the site-packages inside the standard library's folder
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for source in plan["data"]:  # numpy (maybe inside a hidden folder), the inputs
        bind(source, inside(root, source))
    for source in plan["write"]:
        bind(source, inside(root, source), writable=True)
    for target in hidden:
        mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs(inside(root, "/.old"), exist_ok=True)
    os.chdir(root)
    pivot = PIVOT_ROOT.get(os.uname().machine.lower())
    if pivot is None:
        raise SetupError(f"no pivot_root for the machine {os.uname().machine}")
    checked(libc.syscall(pivot, b".", b".old"), "pivot_root")
    os.chdir("/")
    checked(libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def without(paths, hidden):
    """``paths`` with the ``hidden`` folders left out: a folder that holds one is replaced by
    its entries (Landlock allows whole folders; it cannot take one back out of them)."""
    result = []
    for path in paths:
        if path in hidden:
            continue
        if any(h.startswith(path.rstrip("/") + "/") for h in hidden) and os.path.isdir(path):
            result += without([os.path.join(path, name) for name in sorted(os.listdir(path))],
                              hidden)
        else:
            result.append(path)
    return result


def write_map(path, text):
    with open(path, "w") as file:
        file.write(text)


def set_limits(plan):
    import resource
    limits = plan["limits"]
    for name, value in (("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_CPU", limits["cpu_s"]),
                        ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_CORE", 0),
                        ("RLIMIT_NOFILE", 64)):
        resource.setrlimit(getattr(resource, name), (value, value))
    if limits.get("processes") and os.getuid() == 0:  # counted per uid: our uid's alone
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)


def drop_to(uid):
    """Root becomes ``uid`` (its group too), with no supplementary groups and no capability."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def others_may_read(path):
    """True when a user with no claim on ``path`` may reach and read it (every folder above
    it lets others through)."""
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    while folder != "/":
        if not os.stat(folder).st_mode & 0o001:
            return False
        folder = os.path.dirname(folder)
    return bool(os.stat(path).st_mode & 0o004)


def drop_capabilities():
    """Root keeps uid 0 but loses every capability, for good: the bounding set is emptied,
    so no exec gives any back (with Landlock, uid 0 then opens only what it allows)."""
    for capability in range(64):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # unknown numbers fail: fine


def run_harness(plan, status, isolation, protections):
    """The last steps in the harness's own process: limits, rights, filter, exec."""
    set_limits(plan)
    if plan.get("uid") is not None and os.getuid() == 0:
        if isolation == "namespaces" or all(others_may_read(path) for path in plan["read"]):
            drop_to(plan["uid"])
            protections.append("an unprivileged uid of its own")
        else:  # the interpreter lies where no other user may read it (/root/...)
            for path in plan["write"]:
                if os.path.isdir(path):
                    os.chown(path, 0, 0)  # made for the uid that now stays unused
            drop_capabilities()
            protections.append("uid 0 without any capability (the interpreter is not "
                               "readable by other users)")
    if isolation == "namespaces" and plan.get("uid") is not None and "user namespace" not in \
            protections and libc.unshare(CLONE_NEWUSER) == 0:
        protections.append("user namespace")  # as the unprivileged uid: no capability outside
    if isolation == "landlock":
        readable = without(plan["read"], plan["hidden"]) + plan["data"]
        version = confine.landlock(readable, plan["write"])
        if version:
            protections.append(f"landlock (ABI {version})")
        else:
            isolation = "none"
    protections.append("resource limits (memory, CPU time, file size)")
    if confine.confine():
        protections.append("seccomp (one process, no sockets, no signals to others)")
    os.write(status, (json.dumps({"isolation": isolation, "protections": protections})
                      + "\n").encode())
    os.set_inheritable(status, False)  # closed by the exec; still open if the exec fails
    os.chdir(plan["cwd"])
    os.execve(plan["argv"][0], plan["argv"], plan["env"])


def wait_and_report(pid, status):
    """The namespace's init: reap everything, and report how the harness ended."""
    while True:
        try:
            child, code = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if child == pid:
            result = ({"signal": os.WTERMSIG(code)} if os.WIFSIGNALED(code)
                      else {"exit": os.WEXITSTATUS(code)})
            os.write(status, (json.dumps(result) + "\n").encode())
            break
    os._exit(0)


def in_namespaces(plan, status):
    """-> never returns in the processes it makes; False if the kernel refuses namespaces."""
    others = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    protections = ["mount namespace (a minimal read-only root)", "PID namespace",
                   "network namespace (no network)", "IPC and UTS namespaces"]
    if os.getuid() == 0:
        if libc.unshare(others) != 0:
            return False
    else:
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | others) != 0:
            return False
        write_map("/proc/self/setgroups", "deny")
        write_map("/proc/self/uid_map", f"{uid} {uid} 1")
        write_map("/proc/self/gid_map", f"{gid} {gid} 1")
        protections.insert(0, "user namespace")
    init = os.fork()  # the first child in the new PID namespace is its init (PID 1)
    if init:
        _, code = os.waitpid(init, 0)
        os._exit(os.WEXITSTATUS(code) if os.WIFEXITED(code) else 1)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the namespace dies with the jail
    try:
        build_root(plan)
    except (SetupError, OSError) as error:
        os.write(status, (json.dumps({"error": f"the sandbox could not be set up: {error}"})
                          + "\n").encode())
        os._exit(SETUP_FAILED)
    harness = os.fork()
    if harness == 0:
        run_harness(plan, status, "namespaces", protections)
    wait_and_report(harness, status)


def main(plan_path):
    with open(plan_path, encoding="utf-8") as file:
        plan = json.load(file)
    status = plan["status_fd"]
    try:
        if plan["isolation"] in ("auto", "namespaces"):
            in_namespaces(plan, status)  # returns only when namespaces are refused
            if plan["isolation"] == "namespaces":
                raise SetupError("the kernel refused to make namespaces")
        mode = "landlock" if plan["isolation"] in ("auto", "landlock") else "none"
        run_harness(plan, status, mode, [])
    except (SetupError, OSError) as error:
        os.write(status, (json.dumps({"error": f"the sandbox could not be set up: {error}"})
                          + "\n").encode())
        os._exit(SETUP_FAILED)


if __name__ == "__main__":
    main(sys.argv[1])
