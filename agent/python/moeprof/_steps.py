"""Where steps begin and end (MOEPROF_PYTHON_STEP).

    optimizer      a step ends when an optimizer's step() returns; the next begins with the
                   next recorded event (so gradient accumulation makes one step of many passes)
    forward        a step is one outermost forward of a model the adapter attached to (a
                   transformers model, or one given to moeprof.attach)
    forward:CLASS  a step is one outermost forward of any module of class CLASS
    layer0         a step begins each time MoE layer 0 runs forward
    explicit       only moeprof.step() moves steps
    auto           (default) optimizer once an optimizer exists, else forward once a model is
                   attached, else layer0; a call of moeprof.step() makes it explicit for good

Steps are numbered 0, 1, 2, ... in the order they begin, unless moeprof.step(n) says otherwise.
"""


class Steps:
    def __init__(self, agent, mode, step_class=None):
        self.agent = agent
        self.mode = mode
        self.step_class = step_class
        self.open = None  # the step now open, if any
        self.next = 0
        self.optimizer_seen = False
        self.roots_attached = False
        self.listeners = []  # called with the number of each step that begins

    def effective_mode(self):
        if self.mode != "auto":
            return self.mode
        if self.optimizer_seen:
            return "optimizer"
        return "forward" if self.roots_attached else "layer0"

    def begin(self, number=None):
        self.end()
        number = self.next if number is None else int(number)
        self.agent.step_begin(number)
        self.open = number
        self.next = number + 1
        for listener in self.listeners:
            listener(number)

    def end(self):
        if self.open is not None:
            self.agent.step_end(self.open)
            self.open = None

    # ---- what the hooks report ------------------------------------------------------------
    def before_record(self):
        """Every recorded event calls this first: in optimizer mode it opens the next step."""
        if self.open is None and self.effective_mode() == "optimizer":
            self.begin()

    def optimizer_created(self):
        self.optimizer_seen = True

    def optimizer_stepped(self):
        if self.effective_mode() != "optimizer":
            return
        if self.open is None:
            self.begin()  # a step with nothing recorded still counts
        self.end()

    def root_forward(self, entering, class_name=None):
        """An outermost forward of an attached model (class_name None) or of any module."""
        # forward mode counts attached models' forwards (step_class None) or CLASS's (forward:CLASS).
        if self.effective_mode() != "forward" or class_name != self.step_class:
            return
        if entering:
            self.begin()
        else:
            self.end()

    def layer_forward(self, layer):
        if layer == 0 and self.effective_mode() == "layer0":
            self.begin()

    def explicit(self, number=None):
        self.mode = "explicit"
        self.begin(number)

    def finish(self):
        self.end()
