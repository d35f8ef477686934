"""Hints one at a time: remember, per exercise, how many a student has seen.

The state is a small JSON file, {"bp2": 2, ...}, written atomically (a
temporary file, then os.replace). A missing or unreadable state file counts
as "no hints seen yet".
"""

import json
import os

from backprop_edu.files import atomic_file


def read_state(path):
    try:
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(path, state):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with atomic_file(path, encoding="utf-8") as file:
        json.dump(state, file)


def hint(exercise, state_path, number=None):
    """(k, total, text): hint number ``number``, or else the next one not yet seen.

    Asking for a hint records it as seen; after the last one, the last one repeats.
    """
    total = len(exercise.HINTS)
    state = read_state(state_path)
    seen = state.get(exercise.NAME, 0)
    seen = seen if isinstance(seen, int) else 0
    if number is None:
        number = min(seen + 1, total)
    if not 1 <= number <= total:
        raise ValueError(f"exercise {exercise.NAME} has hints 1 to {total}, not {number}")
    state[exercise.NAME] = max(seen, number)
    write_state(state_path, state)
    return number, total, exercise.HINTS[number - 1]


def reset(exercise, state_path):
    """Forget which hints of this exercise were seen."""
    state = read_state(state_path)
    state.pop(exercise.NAME, None)
    write_state(state_path, state)
