"""Running a student's file that nobody has reviewed: a separate process, with limits.

    verdict = check_file(exercise, "work/bp2.py", time_limit=10, memory_limit_mb=1024)

The grader (this process) draws the cases, writes them to a fresh temporary
directory, and starts ``python -I harness.py DIR FILE`` with a memory limit
(RLIMIT_AS), a CPU-time limit (RLIMIT_CPU), a file-size limit (RLIMIT_FSIZE)
and a wall-clock timeout; the child runs in its own process group, which is
killed when the time is up or the check is over. The child's answers come
back as plain arrays in DIR/outputs.npz (loaded with allow_pickle=False) and
its per-case errors in DIR/report.json; its stdout and stderr go to files
that decide nothing. The references are computed here, after the child is
gone, and check.grade decides. So a submission can neither crash the grader,
nor alter the reference, nor print its way to a pass.

On Linux the child also runs under confine.py's seccomp filter: it cannot
signal the grader (or any other process), nor leave the process group that
is killed at the end.

What is left out: isolation from the file system and the network (run the
grader as an unprivileged user, or in a container, for that).
"""

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from backprop_edu.grader import harness
from backprop_edu.grader.check import DEFAULT_SEED, Verdict, grade, make_cases
from backprop_edu.grader.confine import confine

TIME_LIMIT = 10.0        # seconds of wall-clock time, numpy's import included
MEMORY_LIMIT_MB = 1024   # address space of the child process
MAX_RESULT_BYTES = 64 * 2**20  # larger answers than this are not answers
LOAD_FAILURES = ("syntax", "load", "missing", "memory", "crashed", "error")


def limit_child(memory_limit_mb, time_limit):
    """The preexec_fn of the child: set its resource limits before it runs anything."""
    def set_limits():
        memory = int(memory_limit_mb * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(time_limit) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 * MAX_RESULT_BYTES, 2 * MAX_RESULT_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        confine()  # no signals to the grader, no escape from the process group
    return set_limits


def write_cases(workdir, exercise, cases):
    """spec.json (which function, which arguments, which outputs) and inputs.npz (the numbers)."""
    spec = {"cases": [{"function": case.function, "inputs": list(case.inputs),
                       "outputs": exercise.OUTPUTS[case.function]} for case in cases]}
    with open(os.path.join(workdir, "spec.json"), "w", encoding="utf-8") as file:
        json.dump(spec, file)
    arrays = {f"case{i}.{name}": np.asarray(value)
              for i, case in enumerate(cases) for name, value in case.inputs.items()}
    np.savez(os.path.join(workdir, "inputs.npz"), **arrays)


def plain(text, limit=600):
    """Text that came from the child, on one line, at most ``limit`` characters, printable in
    any encoding a terminal accepts (a lone surrogate would make print() raise)."""
    text = " ".join(str(text).split())[:limit]
    return text.encode("utf-8", "replace").decode("utf-8")


def regular_file(path):
    """True for a plain file (not a link, a pipe or a device the child put in its place)."""
    return stat.S_ISREG(os.lstat(path).st_mode)


def kill_group(process):
    """Kill the child and anything it started (it leads its own process group)."""
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
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(workdir, filename, time_limit, memory_limit_mb):
    """Run the harness on the student's file -> (timed_out, return code, stderr's tail).

    timed_out is True when the wall-clock limit was reached, or when the child used up its
    CPU-time limit (the kernel then stops it with SIGXCPU, or SIGKILL); a SIGKILL that came
    before that is not a timeout."""
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-I", harness.__file__, workdir, filename]
    cpu_before = children_cpu_seconds()
    with open(os.path.join(workdir, "stdout.txt"), "wb") as stdout, \
            open(os.path.join(workdir, "stderr.txt"), "wb") as stderr:
        process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr, env=environment,
                                   start_new_session=True,
                                   preexec_fn=limit_child(memory_limit_mb, time_limit))
        try:
            process.wait(timeout=time_limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        kill_group(process)
    cpu_limit = int(time_limit) + 1  # RLIMIT_CPU, as limit_child sets it
    if process.returncode == -signal.SIGXCPU or process.returncode == -signal.SIGKILL and \
            children_cpu_seconds() - cpu_before >= cpu_limit - 0.05:
        timed_out = True
    return timed_out, process.returncode, tail(os.path.join(workdir, "stderr.txt"))


def read_answers(workdir, exercise, cases):
    """The child's report and answers -> (load_error or None, [(outputs, error)] per case)."""
    report_path = os.path.join(workdir, "report.json")
    outputs_path = os.path.join(workdir, "outputs.npz")
    if not os.path.lexists(report_path) or not os.path.lexists(outputs_path):
        return None, None
    if not (regular_file(report_path) and regular_file(outputs_path)):
        return {"kind": "crashed", "message": "the answers were replaced by something that "
                                              "is not a file: did your code touch them?"}, []
    if os.path.getsize(report_path) > MAX_RESULT_BYTES or \
            os.path.getsize(outputs_path) > MAX_RESULT_BYTES:
        return {"kind": "error", "message": "the answers are far larger than the exercise asks "
                                            "for (more than 64 MB)"}, []
    with zipfile.ZipFile(outputs_path) as archive:  # a small file may unzip to a huge one
        if sum(member.file_size for member in archive.infolist()) > MAX_RESULT_BYTES:
            return {"kind": "error", "message": "the answers are far larger than the exercise "
                                                "asks for (more than 64 MB)"}, []
    with open(report_path, encoding="utf-8") as file:
        report = json.load(file)
    if report.get("load_error"):
        return report["load_error"], []
    answers = []
    with np.load(outputs_path, allow_pickle=False) as outputs:
        for i, (case, entry) in enumerate(zip(cases, report["cases"])):
            if entry.get("error"):
                answers.append((None, plain(entry["error"])))
                continue
            names = [f"case{i}.{j}" for j in range(len(exercise.OUTPUTS[case.function]))]
            if not all(name in outputs.files for name in names):
                answers.append((None, "gave no answer"))
                continue
            arrays = tuple(outputs[name] for name in names)
            if any(array.dtype.kind not in "biuf" for array in arrays):
                answers.append((None, "returned something that is not an array of real numbers"))
                continue
            answers.append((arrays, None))
    if len(answers) < len(cases):
        answers += [(None, "gave no answer")] * (len(cases) - len(answers))
    return None, answers


def signal_name(number):
    """9 -> 'SIGKILL'; SIGXFSZ says the file-size limit was hit (too much output)."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return str(number)
    return name + (" (it wrote more than the file-size limit)" if name == "SIGXFSZ" else "")


def check_file(exercise, filename, seed=DEFAULT_SEED, time_limit=TIME_LIMIT,
               memory_limit_mb=MEMORY_LIMIT_MB):
    """Grade a student's file in a separate, limited process -> a Verdict. Never raises
    because of what the file contains or does."""
    try:
        return run_check(exercise, filename, seed, time_limit, memory_limit_mb)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            zipfile.BadZipFile) as error:
        return Verdict(exercise.NAME, "crashed",
                       f"the grader could not read your code's answers ({type(error).__name__}: "
                       f"{error}): did your code write into the grader's files?")


def run_check(exercise, filename, seed, time_limit, memory_limit_mb):
    filename = os.path.abspath(filename)
    cases = make_cases(exercise, seed)
    n = len(cases)
    with tempfile.TemporaryDirectory(prefix="backprop-edu-check-",
                                     ignore_cleanup_errors=True) as workdir:
        write_cases(workdir, exercise, cases)
        timed_out, returncode, stderr = run_child(workdir, filename, time_limit, memory_limit_mb)
        if timed_out:
            return Verdict(exercise.NAME, "timeout",
                           f"time limit: your code ran for more than {time_limit:g} s and was "
                           f"stopped (an endless loop? a Python loop over many entries?)", n)
        load_error, answers = read_answers(workdir, exercise, cases)
    memory_message = (f"memory limit: your code needed more than {memory_limit_mb} MB and was "
                      f"stopped (a huge array? an (m × m) matrix where (n × m) would do?)")
    if load_error is not None:
        # The child's report is the student's to forge: only a failing status comes out of it.
        kind = load_error.get("kind") if load_error.get("kind") in LOAD_FAILURES else "load"
        if kind == "memory":
            return Verdict(exercise.NAME, "memory", memory_message, n)
        line = load_error.get("line")
        return Verdict(exercise.NAME, kind, plain(load_error.get("message")),
                       n, detail={"line": line} if isinstance(line, int) else None)
    if answers is None:
        if "MemoryError" in stderr or "Cannot allocate memory" in stderr \
                or "memory" in stderr.lower() and "alloc" in stderr.lower():
            return Verdict(exercise.NAME, "memory", memory_message, n)
        how = (f"was killed by signal {signal_name(-returncode)}" if returncode < 0
               else f"ended with exit code {returncode}")
        return Verdict(exercise.NAME, "crashed",
                       f"your file ended the grading process before it returned its answers "
                       f"(the process {how}): remove any sys.exit / os._exit / os.kill"
                       + (f"; its last words: {plain(' '.join(stderr.split())[-200:])}"
                          if stderr else ""), n)
    for i, (_, error) in enumerate(answers, start=1):
        if error and error.startswith(harness.OUT_OF_MEMORY):
            return Verdict(exercise.NAME, "memory", f"{memory_message}; in case {i}", n)
    return grade(exercise, cases, answers)
