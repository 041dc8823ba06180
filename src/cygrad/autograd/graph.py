"""Introspection of autograd graphs: `to_dot(tensor)` renders the graph that produced a tensor as
Graphviz DOT text (no Graphviz needed to produce it; `dot -Tpng` renders it)."""


def _label(node):
    variable = getattr(node, "variable", None)
    if variable is not None:  # AccumulateGrad: show the leaf's shape
        return f"AccumulateGrad\\n{tuple(variable.shape)}"
    return node.name()


def to_dot(tensor, name="autograd_graph"):
    """The backward graph of `tensor` as DOT text: one box per node, arrows from each node to the
    nodes its gradients flow to (next_functions)."""
    root = tensor.grad_fn
    lines = [f"digraph {name} {{", "  node [shape=box, fontname=monospace];"]
    shape = tuple(tensor.shape)
    lines.append(f'  output [label="output\\n{shape}", shape=ellipse];')
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    ids = {}
    stack = [root]
    ids[root] = 0
    edges = [("output", "n0")]
    while stack:
        node = stack.pop()
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            if next_node not in ids:
                ids[next_node] = len(ids)
                stack.append(next_node)
            edges.append((f"n{ids[node]}", f"n{ids[next_node]}"))
    for node, index in sorted(ids.items(), key=lambda item: item[1]):
        lines.append(f'  n{index} [label="{_label(node)}"];')
    lines.extend(f"  {a} -> {b};" for a, b in edges)
    lines.append("}")
    return "\n".join(lines)


__all__ = ["to_dot"]
