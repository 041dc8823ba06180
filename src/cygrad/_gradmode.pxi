# Grad mode: a per-thread flag, as in torch (a new thread starts with grad enabled). It lives in a C
# thread-local so that every op can read it for the cost of one load.

cdef extern from *:
    """
    static __thread int cg_grad_enabled = 1;
    """
    int cg_grad_enabled


def is_grad_enabled():
    return bool(cg_grad_enabled)


def _set_grad_enabled(bint mode):
    """Sets grad mode for this thread and returns the previous mode."""
    global cg_grad_enabled
    cdef bint previous = cg_grad_enabled
    cg_grad_enabled = mode
    return previous
