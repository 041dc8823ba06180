# The backward engine: iterative, scheduled by dependency counts (never recursion, so a graph
# 100,000 ops deep backpropagates), summing each node's incoming gradients before running it once.

cdef long long _pass_counter = 0


cdef inline void _enter_pass(Node node, long long pass_id, bint needed_by_default):
    node._pass_id = pass_id
    node._dependencies = 0
    node._grad_buffer = None
    node._needed = needed_by_default


cdef list _discover(list root_nodes, long long pass_id, bint needed_by_default):
    """Visits every node reachable from the roots once and counts, for each, the edges that point
    to it: a node runs when all of them have delivered their gradient."""
    cdef list stack = []
    cdef list visited = []
    cdef Node node, child
    cdef tuple edge
    for node in root_nodes:
        if node._pass_id != pass_id:
            _enter_pass(node, pass_id, needed_by_default)
            stack.append(node)
    while stack:
        node = <Node>stack.pop()
        visited.append(node)
        for edge in node._next_edges:
            if edge[0] is None:
                continue
            child = <Node>edge[0]
            if child._pass_id != pass_id:
                _enter_pass(child, pass_id, needed_by_default)
                stack.append(child)
            child._dependencies += 1
    return visited


cdef void _mark_needed(list root_nodes, dict captures) except *:
    """For autograd.grad: a node is needed when it leads to a captured input; the others are not
    run at all (as in torch). Children are settled before parents by an iterative post-order."""
    cdef set seen = set()
    cdef list post_order = []
    cdef list stack
    cdef Node node, child
    cdef tuple edge
    for node in root_nodes:
        if node in seen:
            continue
        seen.add(node)
        stack = [(node, iter(node._next_edges))]
        while stack:
            node, edges = stack[len(stack) - 1]
            for edge in edges:
                if edge[0] is not None and edge[0] not in seen:
                    seen.add(edge[0])
                    stack.append((edge[0], iter((<Node>edge[0])._next_edges)))
                    break
            else:
                stack.pop()
                post_order.append(node)
    for node in post_order:
        node._needed = node in captures
        if not node._needed:
            for edge in node._next_edges:
                if edge[0] is not None and (<Node>edge[0])._needed:
                    node._needed = True
                    break


cdef inline void _add_to_buffer(Node node, int output_nr, TensorBase grad) except *:
    if node._grad_buffer is None:
        node._grad_buffer = [None] * node._num_outputs
    existing = node._grad_buffer[output_nr]
    node._grad_buffer[output_nr] = grad if existing is None else _add(existing, grad, 1)


cdef TensorBase _validate_grad(Node node, Py_ssize_t i, TensorBase grad):
    """Brings a gradient to its input's shape and dtype. This is the one place where a broadcast
    input's gradient is summed back to the input's shape (no op does it itself)."""
    cdef tuple shape = <tuple>node._input_shapes[i]
    if _shape(grad._data) != shape:
        if _broadcasts_to(shape, _shape(grad._data)):
            grad = _sum_to(grad, shape)
        else:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(_shape(grad._data))} but expected shape compatible with {list(shape)}")
    cdef int code = <int>node._input_codes[i]
    if grad._code != code:
        grad = _to_code(grad, code)
    return grad


cdef void _send_gradients(Node node, tuple grads_out, list ready) except *:
    """Hands each input's gradient to the node that produced that input; queues nodes whose last
    dependency this was. A function of its own so that no local outlives the hand-over (a stray
    reference would stop AccumulateGrad from adopting the gradient without a copy)."""
    cdef tuple edges = node._next_edges
    cdef Py_ssize_t i
    cdef Node child
    for i in range(len(edges)):
        if edges[i][0] is None:
            continue
        child = <Node>edges[i][0]
        if grads_out is not None and grads_out[i] is not None:
            _add_to_buffer(child, edges[i][1], _validate_grad(node, i, <TensorBase>grads_out[i]))
        child._dependencies -= 1
        if child._dependencies == 0:
            ready.append(child)


cdef void _run_tensor_hooks(Node node, list grads) except *:
    """The register_hook hooks of the tensors whose gradients `grads` are (a leaf's hooks live on
    the leaf; a non-leaf's are attached to its grad_fn)."""
    if node._tensor_hooks is not None:
        for output_nr, hooks in node._tensor_hooks:
            if grads[output_nr] is not None and hooks:
                grads[output_nr] = _run_hooks(hooks, grads[output_nr])
    if isinstance(node, AccumulateGrad):
        hooks = (<AccumulateGrad>node).variable._hooks
        if hooks and grads[0] is not None:
            grads[0] = _run_hooks(hooks, grads[0])


# ---- anomaly detection: name the node that first produced NaN in backward ----

cdef bint _anomaly_detection = False


def set_detect_anomaly(bint mode):
    """Turns NaN checking of every backward node's outputs on or off (torch's anomaly mode)."""
    global _anomaly_detection
    _anomaly_detection = mode


def is_anomaly_enabled():
    return _anomaly_detection


cdef void _check_for_nan(Node node, tuple grads_out) except *:
    cdef TensorBase g
    if grads_out is None:
        return
    for i in range(len(grads_out)):
        if grads_out[i] is None:
            continue
        g = <TensorBase>grads_out[i]
        if _category(g._code) == 2 and _size(g._data) > 0:
            # max propagates NaN, so the largest element is NaN exactly when any element is
            largest, _ = _extreme_dim(g._data.reshape(-1), 0, True)
            if largest.item() != largest.item():
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


cdef void _update_retained(Node node, list grads) except *:
    cdef TensorBase t, g
    for output_nr, ref in node._retained:
        t = <TensorBase>ref()
        if t is None or grads[output_nr] is None:
            continue
        g = <TensorBase>grads[output_nr]
        if t._grad is None:
            t._grad = _wrap(_copy(g._data), g._code)
        else:
            t._grad = _add(t._grad, g, 1)


cdef list _run_engine(list roots, bint keep_graph, bint create_graph, dict captures, int n_captures):
    """Runs backward from roots [(node, output_nr, grad)]. Without captures, every reachable node
    runs and leaves accumulate into .grad; with captures {node: [(output_nr, result_index)]}, only
    the nodes that lead to a capture run and the captured gradients are returned instead."""
    global _pass_counter, cg_grad_enabled
    _pass_counter += 1
    cdef long long pass_id = _pass_counter
    cdef list root_nodes = [r[0] for r in roots]
    _discover(root_nodes, pass_id, captures is None)
    if captures is not None:
        _mark_needed(root_nodes, captures)
    for node, output_nr, grad in roots:
        _add_to_buffer(<Node>node, output_nr, <TensorBase>grad)
    cdef list ready = []
    cdef Node node_
    for node_ in root_nodes:
        if node_._dependencies == 0 and node_ not in ready:
            ready.append(node_)
    cdef list results = [None] * n_captures
    cdef list grads
    cdef tuple grads_out
    cdef bint previous_mode = cg_grad_enabled
    cg_grad_enabled = create_graph
    try:
        while ready:
            node_ = <Node>ready.pop()
            grads = node_._grad_buffer
            node_._grad_buffer = None
            grads_out = None
            if grads is not None:
                _run_tensor_hooks(node_, grads)
                if node_._retained is not None:
                    _update_retained(node_, grads)
                if captures is not None and node_ in captures:
                    for output_nr, index in captures[node_]:
                        results[index] = grads[output_nr]
                if node_._needed and not (captures is not None and isinstance(node_, AccumulateGrad)):
                    grads_out = node_.apply(grads)
                    grads = None
                    if _anomaly_detection:
                        _check_for_nan(node_, grads_out)
            if not keep_graph:
                node_.release_saved()
            if node_._needed:
                _send_gradients(node_, grads_out, ready)
            grads_out = None
    finally:
        cg_grad_enabled = previous_mode
    return results


cdef tuple _as_tensor_tuple(object value, str what):
    if isinstance(value, TensorBase):
        return (value,)
    if value is None:
        return ()
    value = tuple(value)
    for v in value:
        if not isinstance(v, TensorBase):
            raise TypeError(f"{what} must be Tensors, got {type(v).__name__}")
    return value


cdef list _make_roots(tuple outputs, object grad_outputs):
    """(node, output_nr, initial gradient) for each output, with torch's checks."""
    cdef tuple given = (None,) * len(outputs) if grad_outputs is None else (
        (grad_outputs,) if isinstance(grad_outputs, TensorBase) else tuple(grad_outputs))
    if len(given) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(given)} gradients")
    cdef list roots = []
    cdef TensorBase t, g
    for i in range(len(outputs)):
        t = <TensorBase>outputs[i]
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if given[i] is None:
            if _size(t._data) != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _wrap(_full_on(t._data, _shape(t._data), 1, t._code), t._code)
        else:
            g = _as_tensor_operand(given[i])
            if _shape(g._data) != _shape(t._data):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_size_repr(_shape(g._data))} "
                    f"and output[{i}] has a shape of {_size_repr(_shape(t._data))}.")
        roots.append((t._grad_fn if t._grad_fn is not None else _accumulator(t), t._output_nr, g))
    return roots


cdef str _size_repr(tuple shape):
    return f"cygrad.Size({list(shape)})"


cdef dict _captures_for(tuple inputs):
    """{node: [(output_nr, index)]}: where each input's gradient will be found during the pass."""
    cdef dict captures = {}
    cdef TensorBase t
    cdef PyObject *acc
    for i in range(len(inputs)):
        t = <TensorBase>inputs[i]
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        if t._grad_fn is not None:
            captures.setdefault(t._grad_fn, []).append((t._output_nr, i))
        elif t._accumulator_ref is not None:
            acc = PyWeakref_GetObject(t._accumulator_ref)
            if acc != <PyObject *>None:
                captures.setdefault(<object>acc, []).append((0, i))
    return captures


cdef list _grad(tuple outputs, tuple inputs, object grad_outputs, bint keep_graph, bint create_graph):
    cdef list roots = _make_roots(outputs, grad_outputs)
    return _run_engine(roots, keep_graph, create_graph, _captures_for(inputs), len(inputs))


def _backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """torch.autograd.backward: accumulate gradients into the leaves' (or `inputs`') .grad."""
    global cg_grad_enabled
    cdef tuple outputs = _as_tensor_tuple(tensors, "tensors")
    cdef bint keep_graph = create_graph if retain_graph is None else retain_graph
    cdef tuple targets
    cdef bint previous_mode
    if inputs is None:
        _run_engine(_make_roots(outputs, grad_tensors), keep_graph, create_graph, None, 0)
        return
    targets = _as_tensor_tuple(inputs, "inputs")
    if len(targets) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _grad(outputs, targets, grad_tensors, keep_graph, create_graph)
    previous_mode = cg_grad_enabled
    cg_grad_enabled = create_graph
    try:
        for t, g in zip(targets, grads):
            if g is not None:
                _accumulate_into_grad(<TensorBase>t, <TensorBase>g)
    finally:
        cg_grad_enabled = previous_mode


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs; .grad is untouched."""
    cdef tuple outs = _as_tensor_tuple(outputs, "outputs")
    cdef tuple ins = _as_tensor_tuple(inputs, "inputs")
    cdef bint keep_graph = create_graph if retain_graph is None else retain_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    results = _grad(outs, ins, grad_outputs, keep_graph, create_graph)
    for i in range(len(results)):
        if results[i] is None:
            if materialize_grads:
                results[i] = _wrap(_zeros_on((<TensorBase>ins[i])._data, _shape((<TensorBase>ins[i])._data),
                                             (<TensorBase>ins[i])._code), (<TensorBase>ins[i])._code)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
    return tuple(results)
