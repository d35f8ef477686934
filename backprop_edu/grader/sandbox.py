"""Running a student's file that nobody has reviewed: a jailed process, with limits.

The API (the CLI and the notebooks' check() call these; they are stable):

    verdict = check_file(exercise, "work/bp2.py", seed=0, time_limit=10,
                         memory_limit_mb=1024, grading=False, isolation="auto")
    verdict = check_source(exercise, source_text, ...)   # the same, from a string of code

Both return a check.Verdict, and never raise because of what the submission contains or
does: a broken submission is a failing verdict with a reason. They raise GraderError
when the grader itself cannot work (the sandbox cannot be set up, the exercise's
reference fails): a teacher's problem, which `exercises grade` reports with exit code 3.
``grading=True`` adds the exercise's hidden cases (check.make_cases); ``isolation`` is
"auto" (the strongest available), "namespaces", "landlock" or "none" (for tests).
``verdict.detail["isolation"]`` and ``["protections"]`` say what was in force.

How: the grader (this process) draws the cases and writes the inputs as .npy files
into a fresh private directory, with a copy of the submission (and of harness.py),
then starts jail.py, which runs ``python -I -S harness.py`` as an unprivileged user
in new namespaces (or under Landlock), with a clean environment, a memory limit
(RLIMIT_AS: the check is a single process, so it is the whole check's), a CPU-time
limit, a file-size limit and the seccomp filter of confine.py; the wall-clock limit
is kept here, and at the end the process group is killed (and with namespaces, the
whole PID namespace dies with its init). The answers come back as .npy files whose
headers are read before anything is loaded (type, shape and size must match the
file: a header claiming 10¹² numbers is refused, not allocated), and a small JSON
report whose nesting depth is checked before it is parsed. Files are opened without
following links. The references are computed here, after the child is gone, and
check.grade decides. So a submission can neither crash the grader, nor alter the
reference, nor print its way to a pass, nor see the teacher's files, environment,
network or other submissions.

What is left out: judging the answers (check.py), the jail's mechanics (jail.py,
confine.py) and what runs inside (harness.py).
"""

import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import site
import stat
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

from backprop_edu.grader import harness
from backprop_edu.grader.check import (DEFAULT_SEED, GraderError, Verdict, grade, make_cases)

TIME_LIMIT = 10.0        # seconds of wall-clock time, numpy's import included
MEMORY_LIMIT_MB = 1024   # address space of the (single) process
MAX_RESULT_BYTES = 64 * 2**20  # larger answers than this are not answers
MAX_REPORT_BYTES = 2**20
MAX_REPORT_DEPTH = 8     # the report is {"load_error": {...}, "cases": [{...}, ...]}
MAX_THREADS = 16         # the process's threads, counted per uid (root only: a uid of its own)
SANDBOX_UIDS = (1_900_000_000, 2_000_000_000)  # root runs each check as a fresh uid from here
ISOLATIONS = ("auto", "namespaces", "landlock", "none")
LOAD_FAILURES = ("syntax", "load", "missing", "memory", "crashed", "error")
JAIL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jail.py")
OPEN_UNTRUSTED = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class BadAnswerFile(Exception):
    """An answer file the grader refuses to load (a link, too large, a lying header)."""


def system_paths():
    """What the harness needs to run, outside the workdir -> (read, links, hidden, data).

    read: the interpreter, libpython, the standard library, the system's libraries;
    links: those of /lib, /lib64 ... that are symbolic links (merged /usr);
    hidden: every site-packages folder (the package itself lives in one, or in a folder
    on sys.path), masked where it lies inside something in ``read``;
    data: numpy's folder and its bundled libraries (numpy.libs)."""
    executable = os.path.realpath(sys.executable)
    read = [executable, os.path.realpath(sysconfig.get_path("stdlib"))]
    dynload = sysconfig.get_config_var("DESTSHARED")
    if dynload and os.path.isdir(dynload):
        read.append(os.path.realpath(dynload))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        library = os.path.join(sysconfig.get_config_var("LIBDIR") or "",
                               sysconfig.get_config_var("INSTSONAME") or "")
        if os.path.isfile(library):
            read.append(os.path.realpath(library))
    links = []
    for folder in ("/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64",
                   "/usr/lib32", "/usr/libx32"):
        if os.path.islink(folder):
            links.append((folder, os.readlink(folder)))
        elif os.path.isdir(folder):
            read.append(folder)
    import backprop_edu
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(backprop_edu.__file__)))
    hidden = {os.path.realpath(path) for path in
              [*sys.path, *site.getsitepackages(), package_parent,
               *glob.glob("/usr/lib/python3*/*-packages"),
               *glob.glob("/usr/local/lib/python3*/*-packages")]
              if path and os.path.isdir(path) and not path.endswith(".zip")}
    folders = [path for path in read if os.path.isdir(path)]
    hidden = {path for path in hidden  # only what would be visible: inside a bound folder
              if any(path.startswith(folder.rstrip("/") + "/") for folder in folders)
              and path not in folders and os.path.basename(path) != "lib-dynload"}
    numpy_dir = os.path.dirname(os.path.realpath(np.__file__))
    data = [numpy_dir] + [path for path in (numpy_dir + ".libs",) if os.path.isdir(path)]
    return read, links, sorted(hidden), data


def sandbox_uid():
    """A uid that no account and no other check uses (root only)."""
    low, high = SANDBOX_UIDS
    while True:
        uid = low + secrets.randbelow(high - low)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def write_inputs(directory, exercise, cases):
    """spec.json (which function, which arguments, which outputs) and one .npy per input."""
    spec = {"cases": [{"function": case.function, "inputs": list(case.inputs),
                       "outputs": exercise.OUTPUTS[case.function]} for case in cases]}
    with open(os.path.join(directory, "spec.json"), "w", encoding="utf-8") as file:
        json.dump(spec, file)
    for i, case in enumerate(cases):
        for name, value in case.inputs.items():
            np.save(os.path.join(directory, f"case{i}.{name}.npy"), np.asarray(value),
                    allow_pickle=False)


def copy_submission(filename, target):
    """Copy the student's file (never through a symbolic link) into the workdir."""
    try:
        source = os.open(filename, OPEN_UNTRUSTED)
    except OSError as error:
        return f"cannot read the file ({error.strerror}: a symbolic link is not a submission)"
    with os.fdopen(source, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return "it is not a regular file"
        data = file.read(MAX_RESULT_BYTES + 1)
    if len(data) > MAX_RESULT_BYTES:
        return "the file is larger than 64 MB: that is not a solution"
    with open(target, "wb") as file:
        file.write(data)
    return None


def prepare(workdir, exercise, cases, source_file, uid):
    """The workdir of one check -> the paths the jail binds (read-only data, writable)."""
    os.chmod(workdir, 0o711)  # the sandbox's uid may pass through it, not list it
    inputs, out, home, site_dir, root = (os.path.join(workdir, name) for name in
                                         ("in", "out", "home", "site", "root"))
    for folder in (inputs, out, home, site_dir, root):
        os.mkdir(folder, 0o755)
    write_inputs(inputs, exercise, cases)
    shutil.copyfile(harness.__file__, os.path.join(workdir, "harness.py"))
    numpy_dir = os.path.dirname(os.path.realpath(np.__file__))
    os.symlink(numpy_dir, os.path.join(site_dir, "numpy"))
    if os.path.isdir(numpy_dir + ".libs"):
        os.symlink(numpy_dir + ".libs", os.path.join(site_dir, "numpy.libs"))
    for path in (workdir, inputs, site_dir, os.path.join(workdir, "harness.py"), source_file,
                 *(os.path.join(inputs, name) for name in os.listdir(inputs))):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    if uid is not None:
        for folder in (out, home):
            os.chown(folder, uid, uid)
    data = [os.path.join(workdir, "harness.py"), source_file, inputs, site_dir]
    return data, [out, home, "/dev/null"]


def run_jail(workdir, source_file, data, writable, time_limit, memory_limit_mb, isolation,
             uid):
    """Run the harness in the jail -> (timed_out, how it ended, stderr's tail, the status).

    ``how`` is ("exit", code) or ("signal", number); timed_out is True when the wall-clock
    limit was reached, or the CPU-time limit (SIGXCPU, or a SIGKILL once the CPU time
    is used up)."""
    read, links, hidden, numpy_data = system_paths()
    home, out = os.path.join(workdir, "home"), os.path.join(workdir, "out")
    cpu_limit = int(time_limit) + 1
    status_read, status_write = os.pipe()
    plan = {
        "isolation": isolation, "uid": uid, "root": os.path.join(workdir, "root"),
        "read": read, "links": links, "hidden": hidden, "data": data + numpy_data,
        "write": writable, "cwd": home, "status_fd": status_write,
        "argv": [os.path.realpath(sys.executable), "-I", "-S", data[0],
                 os.path.join(workdir, "site"), data[2], out, source_file],
        "env": {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        "limits": {"memory_bytes": int(memory_limit_mb * 2**20), "cpu_s": cpu_limit,
                   "file_bytes": 2 * MAX_RESULT_BYTES, "processes": MAX_THREADS},
    }
    plan_path = os.path.join(workdir, "plan.json")
    with open(plan_path, "w", encoding="utf-8") as file:
        json.dump(plan, file)
    os.chmod(plan_path, 0o600)
    cpu_before = children_cpu_seconds()
    try:
        with open(os.path.join(workdir, "stdout.txt"), "wb") as stdout, \
                open(os.path.join(workdir, "stderr.txt"), "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", JAIL, plan_path], cwd="/",
                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, start_new_session=True,
                pass_fds=(status_write,))
            os.close(status_write)
            status_write = None
            try:
                process.wait(timeout=time_limit)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            kill_group(process)
    except OSError as error:
        raise GraderError(f"cannot start the sandbox: {error}") from None
    finally:
        if status_write is not None:
            os.close(status_write)
    with os.fdopen(status_read, "rb") as pipe:
        lines = pipe.read(65536).decode("utf-8", "replace").splitlines()
    status, how = {}, ("exit", process.returncode)
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "error" in entry:
            raise GraderError(entry["error"])
        if "isolation" in entry:
            status = entry
        elif "signal" in entry:
            how = ("signal", entry["signal"])
        elif "exit" in entry:
            how = ("exit", entry["exit"])
    if process.returncode is not None and process.returncode < 0 and len(lines) < 2:
        how = ("signal", -process.returncode)
    if not status and not timed_out:
        raise GraderError(f"the sandbox did not start (exit code {process.returncode}): "
                          f"{tail(os.path.join(workdir, 'stderr.txt'))}")
    if how == ("signal", signal.SIGXCPU) or how == ("signal", signal.SIGKILL) and \
            children_cpu_seconds() - cpu_before >= cpu_limit - 0.05:
        timed_out = True
    return timed_out, how, tail(os.path.join(workdir, "stderr.txt")), status


def plain(text, limit=600):
    """Text that came from the child, on one line, at most ``limit`` characters, printable in
    any encoding a terminal accepts (a lone surrogate would make print() raise)."""
    text = " ".join(str(text).split())[:limit]
    return text.encode("utf-8", "replace").decode("utf-8")


def kill_group(process):
    """Kill the jail and anything in its process group (with namespaces, its init's death
    takes the whole PID namespace with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def tail(path, characters=400):
    """The last characters of a file the child wrote (its stderr), for a crash message."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - characters))
            return file.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def children_cpu_seconds():
    """User + system CPU time of this process's children that have ended (and were waited for)."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def json_depth(text):
    """How deeply ``text``'s brackets nest, outside strings: checked before json.loads, whose
    recursion a report nested 200,000 deep would exhaust."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_REPORT_DEPTH:
                return deepest
        elif character in "]}":
            depth -= 1
    return deepest


def open_untrusted(directory_fd, name, max_bytes):
    """A file the child wrote, opened without following a link, a regular file, not larger
    than max_bytes -> (file object, size); BadAnswerFile otherwise; None if it is missing."""
    try:
        fd = os.open(name, OPEN_UNTRUSTED, dir_fd=directory_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BadAnswerFile(f"{name} cannot be opened ({error.strerror}): a link?") from None
    file = os.fdopen(fd, "rb")
    size = os.fstat(fd).st_size
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        file.close()
        raise BadAnswerFile(f"{name} was replaced by something that is not a file")
    if size > max_bytes:
        file.close()
        raise BadAnswerFile(f"{name} is far larger than the exercise asks for")
    return file, size


def read_report(directory_fd):
    """The child's report.json, parsed only when small and shallow -> dict, or None."""
    opened = open_untrusted(directory_fd, "report.json", MAX_REPORT_BYTES)
    if opened is None:
        return None
    file, _ = opened
    with file:
        text = file.read().decode("utf-8", "replace")
    if json_depth(text) > MAX_REPORT_DEPTH:
        raise BadAnswerFile("the report is nested deeper than the harness ever writes it")
    report = json.loads(text)
    if not isinstance(report, dict) or not isinstance(report.get("cases", []), list):
        raise BadAnswerFile("the report is not the harness's")
    return report


def read_npy(directory_fd, name, max_bytes):
    """One answer array: its header is read and checked against the file's size before any
    data is loaded -> ndarray (real numbers), None if missing; BadAnswerFile otherwise."""
    opened = open_untrusted(directory_fd, name, max_bytes)
    if opened is None:
        return None
    file, size = opened
    with file:
        try:
            version = np.lib.format.read_magic(file)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
            else:
                raise ValueError(f"npy version {version}")
        except ValueError as error:
            raise BadAnswerFile(f"{name} is not a numpy array file ({plain(error, 100)})") \
                from None
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
            raise BadAnswerFile("returned something that is not an array of real numbers")
        count = 1
        for n in shape:
            count *= int(n)
        expected = count * dtype.itemsize
        if expected != size - file.tell() or expected > max_bytes:
            raise BadAnswerFile(f"{name}'s header claims {count} numbers, which is not what "
                                f"the file holds or far more than the exercise asks for")
        data = file.read(expected)
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def read_answers(out, exercise, cases):
    """The child's report and answers -> (load_error or None, [(outputs, error)] per case).
    (None, None) when the child left no report."""
    directory_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        report = read_report(directory_fd)
        if report is None:
            return None, None
        load_error = report.get("load_error")
        if load_error:
            return load_error if isinstance(load_error, dict) else {"kind": "load"}, []
        answers, budget = [], MAX_RESULT_BYTES
        entries = report.get("cases", [])
        for i, case in enumerate(cases):
            entry = entries[i] if i < len(entries) and isinstance(entries[i], dict) else {}
            if entry.get("error"):
                answers.append((None, plain(entry["error"])))
                continue
            arrays = []
            for j in range(len(exercise.OUTPUTS[case.function])):
                array = read_npy(directory_fd, f"case{i}.{j}.npy", budget)
                if array is None:
                    break
                budget -= array.nbytes
                arrays.append(array)
            if len(arrays) < len(exercise.OUTPUTS[case.function]):
                answers.append((None, "gave no answer"))
            else:
                answers.append((tuple(arrays), None))
        return None, answers
    finally:
        os.close(directory_fd)


def signal_name(number):
    """9 -> 'SIGKILL'; SIGXFSZ says the file-size limit was hit (too much output)."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return str(number)
    return name + (" (it wrote more than the file-size limit)" if name == "SIGXFSZ" else "")


def check_source(exercise, source, **options):
    """check_file for code given as a string (a notebook cell's function, say)."""
    with tempfile.TemporaryDirectory(prefix="backprop-edu-source-") as directory:
        path = os.path.join(directory, f"{exercise.NAME}.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(source)
        return check_file(exercise, path, **options)


def check_file(exercise, filename, seed=DEFAULT_SEED, time_limit=TIME_LIMIT,
               memory_limit_mb=MEMORY_LIMIT_MB, grading=False, isolation="auto"):
    """Grade a student's file in a jailed, limited process -> a Verdict. Never raises because
    of what the file contains or does; GraderError when the grader cannot work."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
    cases = make_cases(exercise, seed, grading)
    uid = sandbox_uid() if os.getuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="backprop-edu-check-",
                                     ignore_cleanup_errors=True) as workdir:
        source_file = os.path.join(workdir, "submission.py")
        unreadable = copy_submission(filename, source_file)
        if unreadable:
            return Verdict(exercise.NAME, "load", unreadable, len(cases))
        data, writable = prepare(workdir, exercise, cases, source_file, uid)
        timed_out, how, stderr, status = run_jail(workdir, source_file, data, writable,
                                                  time_limit, memory_limit_mb, isolation, uid)
        sandbox = {"isolation": status.get("isolation", "unknown"),
                   "protections": status.get("protections", [])}
        if timed_out:
            return Verdict(exercise.NAME, "timeout",
                           f"time limit: your code ran for more than {time_limit:g} s and was "
                           f"stopped (an endless loop? a Python loop over many entries?)",
                           len(cases), detail=sandbox)
        try:
            load_error, answers = read_answers(os.path.join(workdir, "out"), exercise, cases)
        except Exception as error:  # noqa: BLE001 -- whatever the child left is the child's
            return Verdict(exercise.NAME, "crashed",
                           f"the grader could not read your code's answers "
                           f"({type(error).__name__}: {plain(error, 200)}): did your code "
                           f"write into the grader's files?", len(cases), detail=sandbox)
    verdict = judge(exercise, cases, load_error, answers, how, stderr, memory_limit_mb)
    verdict.detail.update(sandbox)
    return verdict


def judge(exercise, cases, load_error, answers, how, stderr, memory_limit_mb):
    """The verdict from what the child left (its report and answers) and how it ended."""
    n = len(cases)
    memory_message = (f"memory limit: your code needed more than {memory_limit_mb} MB and was "
                      f"stopped (a huge array? an (m × m) matrix where (n × m) would do?)")
    if load_error is not None:
        # The child's report is the student's to forge: only a failing status comes out of it.
        kind = load_error.get("kind") if load_error.get("kind") in LOAD_FAILURES else "load"
        if kind == "memory":
            return Verdict(exercise.NAME, "memory", memory_message, n)
        line = load_error.get("line")
        return Verdict(exercise.NAME, kind, plain(load_error.get("message")),
                       n, detail={"line": line} if type(line) is int else None)
    if answers is None:
        if "MemoryError" in stderr or "Cannot allocate memory" in stderr \
                or "memory" in stderr.lower() and "alloc" in stderr.lower():
            return Verdict(exercise.NAME, "memory", memory_message, n)
        kind, number = how
        ended = (f"was killed by signal {signal_name(number)}" if kind == "signal"
                 else f"ended with exit code {number}")
        return Verdict(exercise.NAME, "crashed",
                       f"your file ended the grading process before it returned its answers "
                       f"(the process {ended}): remove any sys.exit / os._exit / os.kill"
                       + (f"; its last words: {plain(' '.join(stderr.split())[-200:])}"
                          if stderr else ""), n)
    for i, (_, error) in enumerate(answers, start=1):
        if error and error.startswith(harness.OUT_OF_MEMORY):
            return Verdict(exercise.NAME, "memory", f"{memory_message}; in case {i}", n)
    return grade(exercise, cases, answers)
