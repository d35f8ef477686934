"""The grader of the exercises: run a student's file apart, judge its answers, say what is wrong.

    from backprop_edu.exercises import get_exercise
    from backprop_edu.grader.sandbox import check_file
    verdict = check_file(get_exercise("bp2"), "work/bp2.py")
    print(verdict.text())

    check.py     the verdict: the student's answers against the reference, and a diagnosis
    sandbox.py   runs the student's file in a separate process, with limits
    harness.py   the script that process runs: load the file, call its functions
    confine.py   the seccomp filter that keeps that process away from the grader

The grader takes an exercise module (backprop_edu.exercises) as an argument and
imports none: the exercises are what is graded, this package how.

What is left out: the exercises themselves (their maths, cases, references, hints).
"""
