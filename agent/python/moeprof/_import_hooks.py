"""Run a function right after a module is imported (or at once if it already is), without
importing it ourselves: the adapter must not make a program import torch or transformers
that would not otherwise."""

import importlib.abc
import sys
import threading

_lock = threading.RLock()
_pending = {}  # module name -> [callbacks]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


class _Loader(importlib.abc.Loader):
    """The module's own loader, then the callbacks waiting for it."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps its real loader (reload, importlib.resources, isinstance checks).
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run(module.__name__, module)

    def __getattr__(self, name):  # get_data, get_filename, is_package, ...: the real loader's
        return getattr(self._loader, name)


def _run(name, module):
    with _lock:
        callbacks = _pending.pop(name, [])
    for callback in callbacks:
        callback(module)


_finder = _Finder()


def when_imported(name, callback):
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            _pending.setdefault(name, []).append(callback)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    callback(module)
