"""What the adapter tells the user: a line on stderr, and the same text as a note in the
trace (a mark in the "moeprof.note" domain, which `moeprof info` lists)."""

import sys

NOTE_DOMAIN = "moeprof.note"


class Reporter:
    def __init__(self, agent=None, stream=None):
        self.agent = agent
        self.stream = stream
        self._said = set()

    def note(self, text, once_key=None):
        """Says `text` (once per once_key, when given)."""
        if once_key is not None:
            if once_key in self._said:
                return
            self._said.add(once_key)
        try:
            (self.stream or sys.stderr).write(f"moeprof: python: {text}\n")
        except (OSError, ValueError):
            pass  # stderr closed: the trace still gets the note
        if self.agent is not None:
            self.agent.mark(NOTE_DOMAIN, text)


class Guard:
    """One family of hooks. The first exception turns the family off for good, with one note;
    a hook that is off returns at once, so the model runs on as if it were not hooked."""

    def __init__(self, name, reporter):
        self.name = name
        self.reporter = reporter
        self.on = True

    def run(self, function, *args):
        if not self.on:
            return None
        try:
            return function(*args)
        except Exception as error:  # noqa: BLE001 - any failure of ours must stay ours
            self.fail(error)
            return None

    def hook(self, function):
        """A forward (pre-)hook calling function(*hook arguments) under this guard. It returns
        None whatever happens: a hook that returned a value would replace the module's input
        or output."""
        guard = self

        def hook(*args):  # Guard.run inlined: this runs on every hooked module call
            if guard.on:
                try:
                    function(*args)
                except Exception as error:  # noqa: BLE001 - any failure of ours must stay ours
                    guard.fail(error)
        return hook

    def fail(self, error):
        self.on = False
        self.reporter.note(f"the {self.name} hook failed ({type(error).__name__}: {error}); "
                           f"it is off for the rest of this process, the program runs on unchanged")
