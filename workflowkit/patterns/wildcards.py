"""``wildcard`` values: their syntax, their matching, and the complexity limit EventBridge puts on them.

Syntax (event-ruler ``WildcardParser``): ``*`` matches any run of characters, including none; ``\\*`` is a
literal star and ``\\\\`` a literal backslash; any other backslash is refused, and so are two stars in a row.
Positions in those messages count UTF-8 bytes of the value *with* its opening quote, as event-ruler's do
(AWS answers "Consecutive wildcard characters at pos 26" for ``arn:aws:events:us-east-1:**:...``).

Complexity (event-ruler ``MachineComplexityEvaluator``; EventBridge user guide, "Wildcards and event pattern
complexity"): the largest number of wildcard-pattern *prefixes* that one input string can match at once,
summed over the wildcard patterns of one field. ``*:*:*:*:*:event-bus/*`` scores 11 and AWS refuses it;
three ``*:stack/<name>/*`` patterns on one field score 9 and AWS takes them, four score 12 and AWS refuses
them. We refuse from 10 on (docs/decisions/0010-event-pattern-matcher.md says why 10).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from workflowkit.patterns.errors import InvalidEventPatternError

__all__ = ["MAX_COMPLEXITY", "TOO_COMPLEX", "Tokens", "WildcardGroup", "complexity", "parse_wildcard"]

MAX_COMPLEXITY = 10
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
    "after a wildcard character"
)
STAR = -1
Tokens = tuple[int, ...]  # UTF-8 bytes of the literal parts, STAR for each wildcard
# One wildcard pattern object of a field: (its identity, the tokens of its values). A ``wildcard`` has one
# value; an ``anything-but`` ``wildcard`` list is one object with several.
WildcardGroup = tuple[tuple[str, Any], tuple[Tokens, ...]]
# Reachable state sets explored before we call a pattern too complex rather than keep searching.
_EXPLORATION_BUDGET = 50_000


def parse_wildcard(text: str, path: str) -> tuple[Tokens, Callable[[str], bool]]:
    """The value's tokens (for the complexity count) and its matcher; refused as event-ruler refuses it."""
    tokens: list[int] = []
    regex: list[str] = []
    position = 1  # byte offset in '"' + text + '"'
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if text[index + 1 : index + 2] == "*":
                raise InvalidEventPatternError(f"Consecutive wildcard characters at pos {position}", path)
            tokens.append(STAR)
            regex.append(".*")
        elif char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ("*", "\\"):
                raise InvalidEventPatternError(f"Invalid escape character at pos {position}", path)
            tokens.append(ord(following))
            regex.append(re.escape(following))
            index += 1
            position += 1
        else:
            encoded = char.encode("utf-8", "surrogatepass")
            tokens.extend(encoded)
            regex.append(re.escape(char))
            position += len(encoded) - 1
        index += 1
        position += 1
    fullmatch = re.compile("".join(regex), re.DOTALL).fullmatch
    return tuple(tokens), lambda value: fullmatch(value) is not None


def complexity(groups: Iterable[Sequence[Tokens]], limit: int = MAX_COMPLEXITY) -> int:
    """Most wildcard prefixes one input can match at once, capped at ``limit``.

    ``groups`` are event-ruler's pattern objects on one field: a ``wildcard`` is a group of one value, an
    ``anything-but`` ``wildcard`` list is one group of several (their shared prefixes count once, as the
    values of one pattern share their states). The count runs the union automaton over every input: a state
    is a (group, prefix) pair, and a subset of states reached after at least one byte scores the number of
    non-empty prefixes in it.
    """
    groups = list(groups)
    children: dict[tuple[int, Tokens], set[int]] = {}
    for group, values in enumerate(groups):
        for tokens in values:
            for end in range(len(tokens)):
                children.setdefault((group, tokens[:end]), set()).add(tokens[end])
    if not children:
        return 0

    def closure(states: set[tuple[int, Tokens]]) -> frozenset[tuple[int, Tokens]]:
        pending = list(states)
        while pending:  # a wildcard may match nothing: its state is reached without reading a byte
            group, prefix = pending.pop()
            if STAR in children.get((group, prefix), ()):
                starred = (group, (*prefix, STAR))
                if starred not in states:
                    states.add(starred)
                    pending.append(starred)
        return frozenset(states)

    # Bytes that appear in some pattern, plus one that appears in none: all others behave like it.
    alphabet = {token for followers in children.values() for token in followers if token != STAR} | {256}
    start = closure({(group, ()) for group in range(len(groups))})
    seen = {start}
    frontier = [start]
    best = 0
    while frontier:
        reached = []
        for states in frontier:
            for byte in alphabet:
                following: set[tuple[int, Tokens]] = set()
                for group, prefix in states:
                    if prefix and prefix[-1] == STAR:
                        following.add((group, prefix))
                    if byte in children.get((group, prefix), ()):
                        following.add((group, (*prefix, byte)))
                if not following:
                    continue
                after = closure(following)
                best = max(best, sum(1 for _, prefix in after if prefix))
                if best >= limit:
                    return limit
                if after not in seen:
                    if len(seen) >= _EXPLORATION_BUDGET:
                        return limit
                    seen.add(after)
                    reached.append(after)
        frontier = reached
    return best
