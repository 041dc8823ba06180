# Custom autograd Functions (torch.autograd.Function): a user's static forward/backward pair
# becomes a graph node. As in torch, the node is also the `ctx` the user's methods receive.


cdef class FunctionCtx(Node):
    """The node of one Function.apply call, and the ctx its forward and backward see."""
    cdef dict __dict__                 # users store anything on ctx (ctx.constant = ...)
    cdef object _function_cls
    cdef tuple _to_save                # what forward passed to save_for_backward
    cdef list _saved                   # SavedTensor (or None) for each, once forward returned
    cdef set _non_differentiable       # ids of outputs marked non-differentiable
    cdef list _output_meta             # (shape, code, device) per output, to materialize missing grads
    cdef public bint materialize_grads
    cdef public tuple needs_input_grad

    def name(self):
        return f"{self._function_cls.__name__}Backward"

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, TensorBase):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:  # during forward, or when no graph was recorded
            return self._to_save if self._to_save is not None else ()
        return tuple([None if s is None else (<SavedTensor>s).unpack(self) for s in self._saved])

    def mark_non_differentiable(self, *tensors):
        if self._non_differentiable is None:
            self._non_differentiable = set()
        for t in tensors:
            self._non_differentiable.add(id(t))

    def mark_dirty(self, *tensors):
        raise NotImplementedError("Functions that modify their inputs in place (mark_dirty) are not "
                                  "supported yet")

    def set_materialize_grads(self, bint value):
        self.materialize_grads = value

    cdef tuple apply(self, list grads):
        cdef int i
        if self.materialize_grads:
            for i in range(len(grads)):
                if grads[i] is None:
                    shape, code, device = self._output_meta[i]
                    grads[i] = _wrap(_move_to(_zeros(shape, code), device), code)
        result = self._function_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self._next_edges):
            if len(result) > len(self._next_edges) and all(r is None for r in result[len(self._next_edges):]):
                result = result[:len(self._next_edges)]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {len(self._next_edges)}, got {len(result)})")
        for i in range(len(result)):
            if result[i] is not None and self._next_edges[i][0] is not None and not isinstance(result[i], TensorBase):
                raise TypeError(f"function {self.name()} returned a gradient of type "
                                f"{type(result[i]).__name__} at index {i}; expected a Tensor or None")
        return tuple([result[i] if self._next_edges[i][0] is not None else None
                      for i in range(len(result))])

    cdef void release_saved(self):
        if self._saved is not None:
            for s in self._saved:
                if s is not None:
                    (<SavedTensor>s).release()


def _function_apply(object function_cls, tuple args):
    """Runs function_cls.forward(ctx, *args) without recording, then makes ctx the grad_fn of
    its tensor outputs when an input requires grad."""
    global cg_grad_enabled
    cdef FunctionCtx ctx = FunctionCtx.__new__(FunctionCtx)
    ctx._function_cls = function_cls
    ctx.materialize_grads = True
    ctx.needs_input_grad = tuple([_needs_grad(a) for a in args])
    cdef bint recording = cg_grad_enabled and any(ctx.needs_input_grad)
    cdef bint previous_mode = cg_grad_enabled
    cg_grad_enabled = False
    try:
        outputs = function_cls.forward(ctx, *args)
    finally:
        cg_grad_enabled = previous_mode
    if not recording:
        return outputs
    cdef bint single = not isinstance(outputs, tuple)
    cdef tuple outs = (outputs,) if single else outputs
    ctx._next_edges = tuple([_edge_to(a) for a in args])
    ctx._input_shapes = tuple([_shape_of(a) for a in args])
    ctx._input_codes = tuple([_code_of(a) for a in args])
    ctx._output_meta = []
    cdef list wired = []
    cdef TensorBase t
    cdef set input_ids = {id(a) for a in args if isinstance(a, TensorBase)}
    cdef dict output_of = {}   # id of what forward returned -> the tensor that carries the history
    for o in outs:
        if not isinstance(o, TensorBase):
            wired.append(o)
            continue
        t = <TensorBase>o
        if id(o) in input_ids or t._grad_fn is not None:
            t = _view_of(t, t._data.view())  # an input returned as is gets a new identity (torch)
        if ctx._non_differentiable is not None and id(o) in ctx._non_differentiable:
            t._requires_grad = False
        elif _category(t._code) == 2:
            t._grad_fn = ctx
            t._output_nr = len(ctx._output_meta)
            t._requires_grad = True
        ctx._output_meta.append((_shape(t._data), t._code, _device_index(t._data)))
        output_of[id(o)] = t
        wired.append(t)
    ctx._num_outputs = len(ctx._output_meta)
    ctx._saved = []
    if ctx._to_save is not None:
        for s in ctx._to_save:
            if s is None:
                ctx._saved.append(None)
            elif id(s) in output_of:
                ctx._saved.append(_save(<TensorBase>output_of[id(s)], True))
            else:
                ctx._saved.append(_save(<TensorBase>s, False))
        ctx._to_save = None
    return wired[0] if single else tuple(wired)
