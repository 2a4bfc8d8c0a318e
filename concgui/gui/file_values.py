"""Values an opened file names that would run a program: shown, and run only once the person confirms them.

A run file (or one from the history) may name an interpreter (``python``) or a function whose module
is imported (``function``). Opening it must never start either: the form shows such a value marked
as coming from the file, and the interpreter probe, the function check and Run all wait until the
person confirms it in this session (Enter in its field, or its Confirm button). Once confirmed, the
same value opened again is not asked about again until the app restarts. What the person types or
browses to is theirs, and is checked as it always was.
"""

from __future__ import annotations

#: the spec fields whose value is run: an interpreter is started, a module imported
RUNNABLE = ("python", "function")


class FileValues:
    """Which (field, value) pairs came from an opened file and are not confirmed yet."""

    def __init__(self) -> None:
        self._from_file: set[tuple[str, str]] = set()
        self._confirmed: set[tuple[str, str]] = set()

    def opened(self, name: str, value: str | None) -> None:
        """``value`` of field ``name`` was read from a file (nothing to mark when empty or confirmed)."""
        key = (name, (value or "").strip())
        if name in RUNNABLE and key[1] and key not in self._confirmed:
            self._from_file.add(key)

    def confirm(self, name: str, value: str | None) -> bool:
        """The person confirmed ``value`` (or chose it themself); whether it was waiting for that."""
        key = (name, (value or "").strip())
        self._confirmed.add(key)
        if key in self._from_file:
            self._from_file.discard(key)
            return True
        return False

    def pending(self, name: str, value: str | None) -> bool:
        """Whether ``value`` came from a file and must not run until the person confirms it."""
        return (name, (value or "").strip()) in self._from_file


#: the app's session: a value confirmed once stays confirmed until it quits
SESSION = FileValues()
