"""MOEPROF_PYTHON_STEP=forward:CLASS: a step is one outermost forward of any module whose class
is named CLASS. Uses torch's global module hooks, installed only in this mode (they run for
every module call)."""


def install(module_hooks, runtime):
    class_name = runtime.steps.step_class
    guard = runtime.guard("step")
    state = runtime.thread

    def enter(module, inputs):
        if type(module).__name__ != class_name:
            return
        state.class_depth = getattr(state, "class_depth", 0) + 1
        if state.class_depth == 1:
            runtime.steps.root_forward(True, class_name)

    def leave(module, inputs, output):
        if type(module).__name__ != class_name:
            return
        state.class_depth = max(0, getattr(state, "class_depth", 1) - 1)
        if state.class_depth == 0:
            runtime.steps.root_forward(False, class_name)

    module_hooks.register_module_forward_pre_hook(guard.hook(enter))
    module_hooks.register_module_forward_hook(guard.hook(leave))
