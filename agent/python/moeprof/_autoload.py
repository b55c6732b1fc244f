"""Installs the adapter into this process: the runtime over the agent, and each automatic hook
(MOEPROF_PYTHON_HOOKS) as soon as the module it hooks is imported. Done once, by
sitecustomize under `moeprof run`, or by the first use of the explicit API."""

import atexit
import sys

from . import _abi
from ._import_hooks import when_imported
from ._runtime import Runtime
from ._settings import Settings, SettingsError, adapter_enabled

_runtime = None
_installed = False


def runtime():
    """The process's runtime, installing the adapter on first use; None without an agent."""
    if not _installed:
        install()
    return _runtime


def install():
    global _runtime, _installed
    if _installed:
        return _runtime
    _installed = True
    if not adapter_enabled():
        return None
    agent = _abi.agent()
    if agent is None:
        return None
    try:
        settings = Settings()
    except SettingsError as error:
        sys.stderr.write(f"moeprof: python: {error}; the Python adapter is off\n")
        return None
    _runtime = Runtime(agent, settings)
    _install_hooks(_runtime)
    atexit.register(_finish)
    return _runtime


def _guarded(runtime, name, install_function):
    """Installs a hook module when its target is imported; a failure only turns that hook off."""
    def callback(module):
        runtime.guard(name).run(install_function, module, runtime)
    return callback


def _install_hooks(runtime):
    from .hooks import all_to_all, fairscale, optimizer, step_class, transformers

    hooks = runtime.settings.hooks
    # Packages, not their submodules: a package's names exist once its __init__ has run.
    if "all_to_all" in hooks:
        when_imported("torch.distributed", _guarded(runtime, "torch.distributed all-to-all", all_to_all.install))
    when_imported("torch.distributed", _guarded(runtime, "process group", _watch_process_group))
    if "optimizer" in hooks:
        when_imported("torch.optim", _guarded(runtime, "optimizer", optimizer.install))
    if "routers" in hooks:
        when_imported("transformers.modeling_utils", _guarded(runtime, "transformers model", transformers.install))
    if "fairscale" in hooks:
        when_imported("fairscale.nn.moe.moe_layer", _guarded(runtime, "fairscale MOELayer", fairscale.install))
    if runtime.settings.step_mode == "forward" and runtime.settings.step_class:
        when_imported("torch.nn.modules.module", _guarded(runtime, "step", step_class.install))


def _watch_process_group(dist, runtime):
    """The trace's rank and world size are the default process group's, once there is one."""
    import functools

    original = dist.init_process_group

    @functools.wraps(original)
    def init_process_group(*args, **kwargs):
        result = original(*args, **kwargs)
        runtime.guard("process group").run(
            lambda: runtime.update_topology(rank=dist.get_rank(), world_size=dist.get_world_size()))
        return result

    dist.init_process_group = init_process_group
    dist.distributed_c10d.init_process_group = init_process_group
    if dist.is_available() and dist.is_initialized():
        runtime.update_topology(rank=dist.get_rank(), world_size=dist.get_world_size())


def _finish():
    if _runtime is not None:
        _runtime.guard("step").run(_runtime.steps.finish)
