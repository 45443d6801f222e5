"""Errors shared by the three stages.

Every error a user can cause derives from :class:`GraphMillError`; the ``__main__`` modules turn it
into a message on stderr and exit code 2, so a traceback means a bug in GraphMill, not in the input.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, List


class GraphMillError(Exception):
    """Base class of errors caused by the user's input or configuration."""


class InputError(GraphMillError):
    """The input tables do not match what the config promises (missing column, unknown id, ...)."""


class ConfigError(GraphMillError):
    """A config has problems. ``problems`` lists every one of them, each with its location."""

    def __init__(self, source: str, problems: List[str], subject: str = "the config"):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in {subject}:\n{lines}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class Problems:
    """Collects config problems so that all of them are reported at once.

    Example:
        >>> p = Problems("graph.json")
        >>> p.add("nodes[0].node_type", "is required")
        >>> p.raise_if_any()  # raises ConfigError listing every problem added
    """

    source: str
    items: List[str] = field(default_factory=list)
    subject: str = "the config"  # what the problems are in, for the message
    warnings: List[str] = field(default_factory=list)  # not problems, but said out loud

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}: {message}" if where else message)

    def unknown_keys(self, where: str, given: Iterable[str], allowed: Iterable[str]) -> None:
        """Report every key of ``given`` that is not in ``allowed``, with a suggestion."""
        allowed = sorted(allowed)
        for key in given:
            if key not in allowed:
                self.add(where, f"unknown key '{key}'{did_you_mean(key, allowed)}; "
                                f"allowed: {', '.join(allowed)}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.source, self.items, self.subject)
