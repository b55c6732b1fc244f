"""The adapter's switches, read once from the environment.

MOEPROF_PYTHON=0          the adapter does nothing at all (the agent may still record)
MOEPROF_PYTHON_HOOKS      which automatic hooks to install, comma-separated, from
                          all_to_all, routers, fairscale, compute, optimizer; "all" (default),
                          "none", or "all,-compute" to leave some out
MOEPROF_PYTHON_STEP       where steps begin and end: auto (default), optimizer, forward,
                          forward:CLASS, layer0, explicit (see moeprof/_steps.py)
"""

import os

HOOKS = ("all_to_all", "routers", "fairscale", "compute", "optimizer")
STEP_MODES = ("auto", "optimizer", "forward", "layer0", "explicit")


class SettingsError(ValueError):
    pass


def adapter_enabled(environ=os.environ):
    return environ.get("MOEPROF_PYTHON", "1").strip().lower() not in ("0", "off", "no", "false")


def parse_hooks(text):
    """'all,-compute' -> {'all_to_all', 'routers', 'fairscale', 'optimizer'}"""
    chosen = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item == "all":
            chosen |= set(HOOKS)
        elif item == "none":
            chosen.clear()
        elif item.startswith("-") and item[1:] in HOOKS:
            chosen.discard(item[1:])
        elif item in HOOKS:
            chosen.add(item)
        else:
            raise SettingsError(f"MOEPROF_PYTHON_HOOKS: unknown hook '{item}' (known: {', '.join(HOOKS)}, all, none)")
    return chosen


def parse_step_mode(text):
    """'forward:MixtralForCausalLM' -> ('forward', 'MixtralForCausalLM'); 'auto' -> ('auto', None)"""
    mode, _, argument = text.strip().partition(":")
    if mode not in STEP_MODES or (argument and mode != "forward") or (mode == "forward" and _ and not argument):
        raise SettingsError(f"MOEPROF_PYTHON_STEP: '{text}' is not one of {', '.join(STEP_MODES)} or forward:CLASS")
    return mode, argument or None


class Settings:
    def __init__(self, environ=os.environ):
        self.hooks = parse_hooks(environ.get("MOEPROF_PYTHON_HOOKS", "all"))
        self.step_mode, self.step_class = parse_step_mode(environ.get("MOEPROF_PYTHON_STEP", "auto"))
