"""A course's policy: may students print the solution, and see the last hint?

A teacher turns them off for a course in either of two ways (either is enough):

    the environment variable BACKPROP_EDU_POLICY=no-solution,no-last-hint
        (set on the lab's machines, e.g. in /etc/environment)
    a file policy.json {"solution": false, "last_hint": false}, in the course's exercise
        folder (--exercises DIR) or at /etc/backprop-edu/policy.json

A word or a key that is not known is an error, so a typo never leaves solutions on.
By default both are on (a student working alone needs them).

What is left out: the commands that obey it (cli/exercises.py).
"""

import json
import os

SYSTEM_POLICY = "/etc/backprop-edu/policy.json"
WORDS = {"no-solution": "solution", "no-last-hint": "last_hint"}


def read_file(path):
    try:
        with open(path, encoding="utf-8") as file:
            policy = json.load(file)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the course policy {path}: {error}") from None
    if not isinstance(policy, dict) or set(policy) - set(WORDS.values()) or \
            not all(isinstance(value, bool) for value in policy.values()):
        raise ValueError(f"the course policy {path} must be a JSON object like "
                         f'{{"solution": false, "last_hint": false}}')
    return policy


def course_policy(directory=None, environment=None):
    """{"solution": bool, "last_hint": bool}: False where any source turns it off."""
    environment = os.environ if environment is None else environment
    policy = {"solution": True, "last_hint": True}
    sources = [read_file(SYSTEM_POLICY)]
    if directory:
        sources.append(read_file(os.path.join(os.path.expanduser(directory), "policy.json")))
    words = [word.strip() for word in environment.get("BACKPROP_EDU_POLICY", "").split(",")
             if word.strip()]
    for word in words:
        if word not in WORDS:
            raise ValueError(f"BACKPROP_EDU_POLICY has {word!r}: expected a comma-separated "
                             f"list of {', '.join(WORDS)}")
    sources.append({WORDS[word]: False for word in words})
    for source in sources:
        for key, allowed in source.items():
            policy[key] = policy[key] and allowed
    return policy
