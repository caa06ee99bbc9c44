"""The AST rewrite that routes size-growing operations through guard helpers.

``*``, ``**``, ``<<``, ``+``, ``%``, slices, f-strings, method calls, attribute reads,
loops and comprehensions become calls to ``__bb_*`` helpers; what C compares or hashes
(operands of comparisons, dict keys, set members, subscripts) passes through
``__bb_bounded`` unless it is a literal (bound in
:mod:`.environment` to the functions in :mod:`.guards` and :mod:`.methods`).

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import ast
import copy

_HELPER_PREFIX = "__bb_"


def _helper(name: str, node: ast.AST) -> ast.Name:
    return ast.copy_location(ast.Name(id=_HELPER_PREFIX + name, ctx=ast.Load()), node)


def _as_load(target: ast.expr) -> ast.expr:
    loaded = copy.deepcopy(target)
    for child in ast.walk(loaded):
        if hasattr(child, "ctx"):
            child.ctx = ast.Load()
    return loaded


_GUARDED_BINOPS = {ast.Add: "add", ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}
_GUARDED_AUGOPS = {ast.Add: "iadd", ast.Mult: "imul", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}


def _literal(node: ast.expr | None) -> bool:
    """A constant, or a tuple or list of constants: comparing with it costs no more than it."""
    if isinstance(node, ast.Constant) or node is None:
        return True
    return isinstance(node, ast.Tuple | ast.List) and all(isinstance(item, ast.Constant) for item in node.elts)


class _Guarder(ast.NodeTransformer):
    """Route every operation that can grow memory or time through a guard helper."""

    def __init__(self) -> None:
        self.used = False

    def call(
        self, name: str, node: ast.AST, args: list[ast.expr], keywords: list[ast.keyword] | None = None
    ) -> ast.Call:
        self.used = True
        return ast.copy_location(ast.Call(func=_helper(name, node), args=args, keywords=keywords or []), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        name = _GUARDED_BINOPS.get(type(node.op))
        return self.call(name, node, [node.left, node.right]) if name else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        name = _GUARDED_AUGOPS.get(type(node.op))
        if name is None:
            return node
        value = self.call(name, node, [_as_load(node.target), node.value])
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt:
        self.generic_visit(node)
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_For(self, node: ast.For) -> ast.stmt:
        self.generic_visit(node)
        node.iter = self.call("iter", node.iter, [node.iter])
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.iter = self.call("iter", node.iter, [node.iter])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if not isinstance(node.func, ast.Attribute):
            self.generic_visit(node)
            return node
        obj = self.visit(node.func.value)
        args = [self.visit(arg) for arg in node.args]
        keywords = [self.visit(keyword) for keyword in node.keywords]
        return self.call("method", node, [obj, ast.Constant(node.func.attr), *args], keywords)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        return self.call("attr", node, [node.value, ast.Constant(node.attr)])

    def bounded(self, node: ast.expr) -> ast.expr:
        return node if isinstance(node, ast.Constant) else self.call("bounded", node, [node])

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        # `x == 'ja'`, `x in ('a', 'b')`: bounded by the literal (the fast path of conditions).
        # Not a set or dict literal: `x in {...}` hashes x.
        if len(operands) == 2 and any(_literal(operand) for operand in operands):
            return node
        node.left = self.bounded(node.left)
        node.comparators = [self.bounded(operand) for operand in node.comparators]
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.expr:
        self.generic_visit(node)
        node.keys = [key if key is None else self.bounded(key) for key in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.expr:
        self.generic_visit(node)
        node.elts = [self.bounded(item) for item in node.elts]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.expr:
        self.generic_visit(node)
        node.key = self.bounded(node.key)
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.expr:
        self.generic_visit(node)
        node.elt = self.bounded(node.elt)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.slice, ast.Slice):
            node.slice = self.bounded(node.slice)  # a dict lookup hashes the key
            return node
        if not isinstance(node.ctx, ast.Load):
            return node
        part = node.slice
        bounds = [bound or ast.Constant(None) for bound in (part.lower, part.upper, part.step)]
        return self.call("slice", node, [node.value, *bounds])

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.expr:
        self.generic_visit(node)
        spec = node.format_spec or ast.Constant("")
        value = self.call("format", node, [node.value, ast.Constant(node.conversion), spec])
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)
