# The autograd graph: nodes, the edges between them, saved tensors and the leaf accumulator.
#
# Ownership is one-way so the graph never forms reference cycles (a training loop must not grow
# memory waiting for the cycle collector): an output tensor owns its grad_fn node, a node owns the
# nodes of its inputs and the tensors it saved; a node never owns its outputs (a saved output is
# kept as bare data), and a leaf refers to its AccumulateGrad node only weakly.


cdef class Node:
    """A backward function: maps the gradients of its forward outputs to those of its inputs."""
    cdef tuple _next_edges      # per forward input: (Node or None, output_nr of that node)
    cdef tuple _input_shapes    # per forward input: the shape its gradient must have
    cdef tuple _input_codes     # per forward input: the dtype code its gradient must have
    cdef int _num_outputs
    cdef list _retained         # [(output_nr, weakref to a tensor that called retain_grad)]
    cdef list _tensor_hooks     # [(output_nr, the output tensor's hook dict)] (register_hook)
    # engine state, meaningful only during one backward pass (see _engine.pxi)
    cdef long long _pass_id
    cdef int _dependencies
    cdef list _grad_buffer
    cdef bint _needed
    cdef object __weakref__

    cdef tuple apply(self, list grads):
        """Gradients for each forward input (None where an input needs none)."""
        raise NotImplementedError(f"{self.name()} has no backward")

    cdef void release_saved(self):
        """Drops saved tensors after a backward pass without retain_graph."""
        pass

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return self._next_edges

    def __call__(self, *grads):
        return self.apply(list(grads))

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    cdef void _retain_output(self, int output_nr, TensorBase tensor):
        if self._retained is None:
            self._retained = []
        self._retained.append((output_nr, PyWeakref_NewRef(tensor, None)))

    cdef void _add_tensor_hooks(self, int output_nr, dict hooks):
        """Runs `hooks` (a tensor's register_hook dict, shared so handles can remove entries) on
        the gradient of output `output_nr` before this node uses it."""
        if self._tensor_hooks is None:
            self._tensor_hooks = []
        for entry in self._tensor_hooks:
            if entry[1] is hooks:
                return
        self._tensor_hooks.append((output_nr, hooks))


cdef class RemovableHandle:
    """Returned by register_hook and friends: remove() unregisters the hook."""
    cdef dict _hooks
    cdef object _key

    def remove(self):
        if self._hooks is not None:
            self._hooks.pop(self._key, None)
            self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


cdef long long _hook_counter = 0


cdef RemovableHandle _add_hook(dict hooks, object fn):
    global _hook_counter
    if not callable(fn):
        raise TypeError(f"hook must be callable, got {type(fn).__name__}")
    _hook_counter += 1
    hooks[_hook_counter] = fn
    cdef RemovableHandle handle = RemovableHandle.__new__(RemovableHandle)
    handle._hooks = hooks
    handle._key = _hook_counter
    return handle


cdef object _run_hooks(dict hooks, object grad):
    """grad passed through each hook in registration order; a hook may return a replacement."""
    for fn in list(hooks.values()):
        result = fn(grad)
        if result is not None:
            if not isinstance(result, TensorBase):
                raise TypeError(f"a tensor hook must return a Tensor or None, got {type(result).__name__}")
            grad = result
    return grad


cdef inline tuple _edge_to(object operand):
    """The edge from a node to one of its forward inputs (a tensor, or a Python number)."""
    cdef TensorBase t
    if not isinstance(operand, TensorBase):
        return (None, 0)
    t = <TensorBase>operand
    if not t._requires_grad:
        return (None, 0)
    if t._grad_fn is not None:
        if t._base is not None and t._version_counter.value != t._view_version:
            _refresh_view_history(t)
        return (t._grad_fn, t._output_nr)
    return (_accumulator(t), 0)


cdef void _refuse_stale_view() except *:
    # where _refresh_view_history cannot rebuild the view's history from its base's new one, using
    # the view would silently give the gradient of the old history
    raise NotImplementedError(
        "this view's base was modified in-place after the view was created; using the view in "
        "autograd is not supported yet (take the view again after the in-place operation)")


cdef inline tuple _shape_of(object operand):
    return _shape((<TensorBase>operand)._data) if isinstance(operand, TensorBase) else ()


cdef inline int _code_of(object operand):
    return (<TensorBase>operand)._code if isinstance(operand, TensorBase) else NO_DTYPE


cdef Node _connect1(Node node, object a, TensorBase out):
    """Wires a one-input node between `a` and `out`; returns the node."""
    node._next_edges = (_edge_to(a),)
    node._input_shapes = (_shape_of(a),)
    node._input_codes = (_code_of(a),)
    node._num_outputs = 1
    out._grad_fn = node
    out._requires_grad = True
    return node


cdef Node _connect2(Node node, object a, object b, TensorBase out):
    """Wires a two-input node between (a, b) and `out`; returns the node."""
    node._next_edges = (_edge_to(a), _edge_to(b))
    node._input_shapes = (_shape_of(a), _shape_of(b))
    node._input_codes = (_code_of(a), _code_of(b))
    node._num_outputs = 1
    out._grad_fn = node
    out._requires_grad = True
    return node


cdef inline bint _records(object operand) noexcept:
    """Whether an op with this input must record a node: grad mode on and a tensor needing grad."""
    return cg_grad_enabled and isinstance(operand, TensorBase) and (<TensorBase>operand)._requires_grad


# ---- saved tensors ----

cdef class SavedTensor:
    """A tensor kept for backward, with the version its storage had when saved, so that backward
    can refuse to use it after an in-place write (torch's SavedVariable)."""
    cdef TensorBase _tensor       # a saved input
    cdef object _data             # a saved output's data: keeping the output would make a cycle
    cdef int _code
    cdef _VersionCounter _counter
    cdef long long _saved_version
    cdef bint _released

    cdef TensorBase unpack(self, Node owner):
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                "you need to backward through the graph a second time or if you need to access saved "
                "tensors after calling backward.")
        if self._counter.value != self._saved_version:
            self._raise_modified(owner)
        if self._tensor is not None:
            return self._tensor
        # a saved output comes back with its history, so a differentiable backward can use it
        cdef TensorBase out = _wrap(self._data, self._code)
        out._version_counter = self._counter
        out._grad_fn = owner
        out._requires_grad = True
        return out

    cdef _raise_modified(self, Node owner):
        cdef object data = self._tensor._data if self._tensor is not None else self._data
        description = f"[cygrad.{_DTYPES[self._code].legacy_name} {list(_shape(data))}]"
        if self._tensor is None:
            description += f", which is output 0 of {owner.name()},"
        elif self._tensor._grad_fn is not None:
            description += f", which is output {self._tensor._output_nr} of {self._tensor._grad_fn.name()},"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: {description} is at version {self._counter.value}; expected version "
            f"{self._saved_version} instead. Hint: the operation that failed to compute its gradient "
            "used a tensor that was changed in place after it was saved for backward.")

    cdef void release(self):
        self._tensor = None
        self._data = None
        self._released = True


cdef SavedTensor _save(TensorBase t, bint is_output):
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    s._counter = t._get_version()
    s._saved_version = s._counter.value
    s._code = t._code
    if is_output:
        s._data = t._data
    else:
        s._tensor = t
    return s


# ---- leaves ----

cdef class AccumulateGrad(Node):
    """The sink for a leaf: adds the incoming gradient into leaf.grad."""
    cdef readonly TensorBase variable

    cdef tuple apply(self, list grads):
        cdef TensorBase incoming = <TensorBase>grads[0]
        _accumulate_into_grad(self.variable, incoming)
        if self.variable._post_accumulate_hooks:
            for fn in list(self.variable._post_accumulate_hooks.values()):
                fn(self.variable)
        return ()


cdef AccumulateGrad _accumulator(TensorBase leaf):
    """The leaf's AccumulateGrad node: one per leaf while any graph uses it, so that all the
    gradient a pass sends to the leaf is summed before it touches .grad."""
    cdef PyObject *existing
    if leaf._accumulator_ref is not None:
        existing = PyWeakref_GetObject(leaf._accumulator_ref)
        if existing != <PyObject *>None:
            return <AccumulateGrad>existing
    cdef AccumulateGrad node = AccumulateGrad.__new__(AccumulateGrad)
    node.variable = leaf
    node._next_edges = ()
    node._input_shapes = ()
    node._input_codes = ()
    node._num_outputs = 1
    leaf._accumulator_ref = PyWeakref_NewRef(node, None)
    return node


cdef void _accumulate_into_grad(TensorBase leaf, TensorBase incoming) except *:
    """leaf.grad += incoming, as torch's AccumulateGrad: the first gradient is stored as is when
    nothing else references it (no zero-fill and add, no copy), otherwise copied; later ones are
    added in place (or out of place when building a differentiable backward)."""
    if leaf._grad is None:
        if cg_grad_enabled:
            leaf._grad = incoming   # create_graph: .grad keeps its history
        elif _is_stealable(incoming):
            leaf._grad = _wrap(incoming._data, incoming._code)
        else:
            leaf._grad = _wrap(_copy(incoming._data), incoming._code)
    elif cg_grad_enabled:
        leaf._grad = _add(leaf._grad, incoming, 1)
    else:
        _elementwise(K_ADD, leaf._grad._code, (leaf._grad._data, incoming._data), leaf._grad._data)
        leaf._grad._bump_version()


cdef extern from "Python.h":
    # exact counts: taking the address does not add the temporary reference Py_REFCNT(obj) would
    Py_ssize_t _refcount "Py_REFCNT"(PyObject *o)


# References to an unshared incoming gradient while AccumulateGrad.apply runs: the grads list the
# engine passed in and apply's local variable. More means another buffer or the user holds it.
# Tests pin this (gradients of a + b must not share memory; a user's gradient is never adopted).
cdef enum:
    UNSHARED_GRAD_REFS = 2


cdef bint _is_stealable(TensorBase g):
    """True when g and its array are referenced only by the engine, so .grad may adopt the array.
    A reshaped view (from keepdim or sum_to) qualifies when nothing else holds its base."""
    if not isinstance(g._data, ndarray):
        # a device array: only one that owns its memory (its base would need an owned reference)
        return (_refcount(<PyObject *>g) <= UNSHARED_GRAD_REFS
                and _refcount(<PyObject *>g._data) == 1
                and g._data.base is None
                and g._grad_fn is None)
    cdef PyObject *base = <PyObject *>cnp.PyArray_BASE(<ndarray>g._data)
    return (_refcount(<PyObject *>g) <= UNSHARED_GRAD_REFS
            and _refcount(<PyObject *>g._data) == 1
            and (base == NULL or (isinstance(<object>base, ndarray)
                                  and _refcount(base) == 1
                                  and cnp.PyArray_BASE(<ndarray>base) == NULL))
            and cnp.PyArray_IS_C_CONTIGUOUS(<ndarray>g._data)
            and cnp.PyArray_ISWRITEABLE(<ndarray>g._data)
            and g._grad_fn is None)
