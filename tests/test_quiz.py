"""The worked example as a drill (`backprop-edu example --quiz`): reading answers, judging them,
naming the likely mistake, and the dialogue through piped input."""

import signal
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from backprop_edu.cli import main
from backprop_edu.example import format_value, random_example, worked_example
from backprop_edu.quiz import AnswerError, parse_answer, questions
from conftest import installed_command

# the right answers to the textbook's example, as a student types them
RIGHT = ["3, -2", "[3, 0]", "7/2", "25/8", "2.5", "[[15/2, 0]]", "5/2", "(5/2, -5)",
         "[5/2, 0]", "[[5, -5/2], [0, 0]]", "[2.5, 0]"]


def quiz(*lines, args=()):
    return CliRunner().invoke(main, ["example", "--quiz", *args],
                              input="".join(line + "\n" for line in lines))


def by_key(example=None):
    return {question.key: question for question in questions(example or worked_example())}


# -- reading an answer ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("5/2", 2.5), ("-3", -3), (" 0.75 ", 0.75), ("1e-3", 0.001), ("-5 / 2", -2.5),
    ("[3, -2]", [3, -2]), ("(3, −2)", [3, -2]), ("3, -2", [3, -2]), ("3 -2", [3, -2]),
    ("[[5, -5/2], [0, 0]]", [[5, -2.5], [0, 0]]), ("[[15/2, 0]]", [[7.5, 0]]),
    ("[[1], [2]]", [[1], [2]]),
])
def test_numbers_fractions_vectors_and_matrices_are_read(text, expected):
    np.testing.assert_array_equal(parse_answer(text), np.array(expected, dtype=float))


@pytest.mark.parametrize("text, message", [
    ("", "type an answer"), ("abc", "cannot read 'abc'"), ("[3, -2", "a missing ']'"),
    ("3,,2", "a comma without a number"), ("[[1, 2], [3]]", "rows of different lengths"),
    ("1/0", "not a finite number"), ("1e999", "not a finite number"), ("[]", "empty bracket"),
    ("[[[1]]]", "three deep"), ("__import__('os').system('true')", "cannot read"),
    ("2**3", "cannot read"), ("3]", "unmatched"),
])
def test_anything_else_is_refused_with_the_format_and_nothing_is_evaluated(text, message):
    with pytest.raises(AnswerError, match=message) as error:
        parse_answer(text)
    assert "[[5, -5/2], [0, 0]]" in str(error.value)  # the example of the format


# -- judging it -----------------------------------------------------------------------------

def test_the_questions_come_in_the_order_of_the_calculation_with_the_networks_values():
    asked = questions(worked_example())
    assert [q.symbol for q in asked] == ["a1", "h1", "ŷ", "J", "∂J/∂ŷ", "∇W2", "∇b2",
                                         "∂J/∂h1", "δ⁽¹⁾", "∇W1", "∇b1"]
    for question, text in zip(asked, RIGHT):
        assert question.shape_error(parse_answer(text)) is None
        assert question.check(parse_answer(text)).right, question.symbol


def test_integers_must_be_exact_and_other_numbers_within_a_relative_1e_3():
    example = worked_example(activation="sigmoid")
    asked = by_key(example)
    assert by_key()["J"].check(parse_answer("3.126")).right            # 25/8 = 3.125: 3e-4 off
    assert not by_key()["J"].check(parse_answer("3.13")).right         # 2e-3 off
    assert not by_key()["a1"].check(parse_answer("3.001, -2")).right   # 3 is an integer
    h1 = asked["h1"].value                                              # σ(3), σ(−2)
    assert asked["h1"].check(h1 * (1 + 9e-4)).right
    assert not asked["h1"].check(h1 * (1 + 1.1e-3)).right


@pytest.mark.parametrize("key, answer, mistake", [
    ("h1", "3, -2", "forgot φ"),
    ("y_hat", "15/2", "used the wrong h"),                  # W2 a1 + b2
    ("J", "25/4", "forgot the ½"),
    ("grad_y_hat", "-5/2", "the sign"),
    ("grad_W2", "[[15/2, -5]]", "used the wrong h"),        # δ⁽²⁾ a1ᵀ
    ("grad_W2", "[[5, -5/2]]", "used the wrong h: layer 2's input is h1, not x"),
    ("grad_W2", "[[15/2], [0]]", "transposed"),             # right numbers, wrong shape
    ("grad_h1", "5/2, 0", "applied φ′(a1) too early"),
    ("delta1", "5/2, -5", "forgot φ′(a1)"),
    ("delta1", "15/2, 0", "used φ(a1) = h1 instead of φ′(a1)"),
    ("grad_W1", "[[5, 0], [-5/2, 0]]", "forgot the transpose"),
    ("grad_W1", "[[5, -5/2], [-10, 5]]", "forgot φ′(a1)"),
    ("grad_W1", "[[15/2, 0], [0, 0]]", "used the wrong h: layer 1's input is h0 = x"),
    ("grad_b1", "5/2, -5", "forgot φ′(a1)"),
])
def test_a_wrong_answer_is_matched_to_the_typical_mistake(key, answer, mistake):
    verdict = by_key()[key].check(parse_answer(answer))
    assert not verdict.right
    assert mistake in verdict.mistake


def test_a_mistake_that_gives_the_right_value_is_never_offered():
    # identity: φ′ = 1, so "forgot φ′" would be the right answer; it must not be listed
    asked = by_key(worked_example(activation="identity"))
    assert not any(text.startswith("forgot φ′") for text, _ in asked["delta1"].mistakes)
    assert by_key()["delta1"].mistakes[0][0].startswith("forgot φ′(a1)")


def test_a_shape_that_cannot_be_meant_is_asked_again():
    assert "is a number, you typed a vector of 2 numbers" in \
        by_key()["y_hat"].shape_error(parse_answer("[3, 0]"))
    assert "is a 2×2 matrix, you typed a vector of 4" in \
        by_key()["grad_W1"].shape_error(parse_answer("5, -5/2, 0, 0"))


def test_random_examples_are_small_integers_reproducible_and_nontrivial():
    first, again, other = random_example(7), random_example(7), random_example(8)
    assert first.value("L") == again.value("L") and first.value("L") != other.value("L")
    for seed in range(20):
        example = random_example(seed)
        hidden, output = example.network.layers
        for array in (example.X, example.Y, hidden.W, hidden.b, output.W, output.b):
            assert np.all(array == np.round(array)) and np.all(np.abs(array) <= 2)
        assert np.all(example.X != 0) and example.value("y_hat") != example.Y[0, 0]
        assert np.all(np.asarray(example.value("a1")) != 0)


# -- the dialogue ---------------------------------------------------------------------------

def test_all_right_answers_score_11_of_11_and_exit_0():
    result = quiz(*RIGHT)
    assert result.exit_code == 0, result.output
    assert result.output.count("  right: ") == 11
    assert result.output.endswith("score: 11/11\n")
    assert "1/11  a1 = ?   (a vector of 2 numbers)\n> 3, -2\n  right: a1 = (3, -2)" in \
        result.output


def test_wrong_and_unparseable_answers_get_the_value_the_equation_and_the_mistake():
    answers = list(RIGHT)
    answers[8] = "what?\n[1, 2, 3]\n5/2, -5"    # δ⁽¹⁾: unreadable, wrong shape, forgot φ′
    answers[9] = "[[5, 0], [-5/2, 0]]"          # ∇W1: forgot the transpose
    result = quiz(*answers)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  cannot read 'what?': write a number (5/2, -3, 0.75), a vector [3, -2] or a " \
           "matrix [[5, -5/2], [0, 0]]" in out
    assert "  δ⁽¹⁾ is a vector of 2 numbers, you typed a vector of 3 numbers" in out
    assert ("  not quite: δ⁽¹⁾ = (5/2, 0)\n  the equation: BP2: δ⁽¹⁾ = φ′(a1) ⊙ W2ᵀ δ⁽²⁾\n"
            "  likely mistake: forgot φ′(a1)") in out
    assert "  not quite: ∇W1 = [[5, -5/2], [0, 0]]" in out
    assert "likely mistake: forgot the transpose" in out
    assert out.endswith("score: 9/11\n")


def test_a_question_mark_shows_the_answer_and_counts_as_not_right():
    answers = ["?"] + RIGHT[1:]
    result = quiz(*answers)
    assert "  a1 = (3, -2)\n  the equation: a1 = W1 x + b1" in result.output
    assert result.exit_code == 0 and result.output.endswith("score: 10/11\n")


def test_input_that_ends_early_prints_the_partial_score_and_exits_1():
    result = quiz("3, -2", "3, 0", "oops")
    assert result.exit_code == 1, result.output
    assert result.output.endswith("input ended after 2 of 11 questions: score 2/11\n")
    assert "Traceback" not in result.output


def test_random_drills_take_their_right_answers_from_the_network():
    example = random_example(3, "tanh")
    answers = [format_value(q.value if q.value.ndim else float(q.value)) for q in
               questions(example)]
    answers = [a.replace("(", "[").replace(")", "]") for a in answers]
    result = quiz(*answers, args=("--random", "3", "--activation", "tanh"))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("score: 11/11\n")
    assert f"x  = {format_value(example.X[0])}" in result.output


@pytest.mark.parametrize("args, message", [
    (["--json", "-"], "does not combine with --json or --check"),
    (["--check"], "does not combine with --json or --check"),
    (["--random", "1", "--x", "1,2"], "--random draws x and y itself; leave out --x"),
    (["--activation", "swish"], "unknown activation 'swish'"),
    (["--random", "-1"], "-1 is not in the range x>=0"),
])
def test_bad_options_are_one_line(args, message):
    result = quiz(args=args)
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_as_a_real_process_with_piped_stdin():
    answers = "".join(line + "\n" for line in RIGHT[:-1]) + "[5/2, -5]\n"
    done = subprocess.run([installed_command(), "example", "--quiz"], input=answers,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("  likely mistake: forgot φ′(a1): multiply ∂J/∂h1 by relu′(a1), "
                                "elementwise: ∇b1 = δ⁽¹⁾ = φ′(a1) ⊙ ∂J/∂h1\n\nscore: 10/11\n")
    assert done.stderr == ""


def test_ctrl_c_prints_the_partial_score_and_exits_130():
    process = subprocess.Popen([installed_command(), "example", "--quiz"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdin.write("3, -2\n")
    process.stdin.flush()
    while "2/11" not in process.stdout.readline():  # the second question is being asked
        pass
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted after 1 of 11 questions: score 1/11" in out
    assert "Traceback" not in out + err

