"""Loaded by Python at startup because `moeprof run` put this folder first on PYTHONPATH:
installs moeprof's Python adapter, then runs the sitecustomize this one hides, if any."""


def _install_moeprof():
    try:
        import moeprof._autoload

        moeprof._autoload.install()
    except Exception as error:  # noqa: BLE001 - never stop a program from starting
        import sys

        sys.stderr.write(f"moeprof: python: the adapter did not load ({type(error).__name__}: {error})\n")


def _run_hidden_sitecustomize():
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - Python itself only warns for its sitecustomize
        sys.stderr.write(f"moeprof: python: {spec.origin} failed ({type(error).__name__}: {error})\n")


_install_moeprof()
_run_hidden_sitecustomize()
