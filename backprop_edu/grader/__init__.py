"""The grader of the exercises: run a student's file apart, judge its answers, say what is wrong.

    from backprop_edu.exercises import get_exercise
    from backprop_edu.grader.sandbox import check_file
    verdict = check_file(get_exercise("bp2"), "work/bp2.py")
    print(verdict.text())

    check.py        the verdict: the student's answers against the right ones, and a diagnosis
    derivatives.py  the right answers without a reference: derivatives of the forward function
    sandbox.py      runs the student's file in a jailed process, with limits (check_file)
    jail.py         the jail: namespaces (or Landlock), an unprivileged uid, few files
    confine.py      the seccomp filter (one process, no sockets) and Landlock's rules
    harness.py      the script that process runs: load the file, call its functions

The grader takes an exercise module (backprop_edu.exercises) as an argument and
imports none: the exercises are what is graded, this package how.

What is left out: the exercises themselves (their maths, cases, references, hints).
"""
