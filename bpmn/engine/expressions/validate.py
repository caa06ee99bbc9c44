"""The AST whitelist: allowed node types, names, called functions and attributes.

Plain Python: this module must never import Django.
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import UnsafeExpressionError
from .functions import SAFE_FUNCTION_NAMES
from .limits import MAX_INT_BITS
from .methods import ALLOWED_METHODS, DATA_ATTRIBUTES

_REFUSED_NAMES = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.While: "a while loop",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.Lambda: "lambda",
    ast.ClassDef: "a class definition",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.With: "with",
    ast.AsyncWith: "with",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.Raise: "raise",
    ast.Assert: "assert",
    ast.Return: "return",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Await: "await",
    ast.AsyncFor: "async for",
    ast.Starred: "a starred expression (*x)",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Match: "a match statement",
}

_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}

_COMMON_NODES = frozenset(
    {
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.Store,
        ast.Tuple,
        ast.List,
        ast.Set,
        ast.Dict,
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.BinOp,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Invert,
        ast.IfExp,
        ast.Subscript,
        ast.Slice,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Call,
        ast.Attribute,
        ast.keyword,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.In,
        ast.NotIn,
        ast.Is,
        ast.IsNot,
        *_BINOPS,
    }
)
# How Python writes each refused construct: the interfaces name it so in any language.
_KEYWORDS = {
    **{kind: name for kind, name in _REFUSED_NAMES.items() if " " not in name or name == "async for"},
    ast.While: "while",
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "class",
    ast.Starred: "*x",
    ast.NamedExpr: ":=",
    ast.Match: "match",
}


def _operator_sign(op: ast.AST) -> str:
    return _OPERATOR_SIGNS.get(type(op), type(op).__name__)


_OPERATOR_SIGNS: dict[type[ast.AST], str] = {
    ast.MatMult: "@",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.RShift: ">>",
    ast.LShift: "<<",
}

_EVAL_NODES = _COMMON_NODES | {ast.Expression}
_EXEC_NODES = _COMMON_NODES | {
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.If,
    ast.For,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Delete,
    ast.Del,
}
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# What a refusal names as allowed, in its log text and in its params alike.
_ATTRIBUTES_ALLOWED = ", ".join(sorted(DATA_ATTRIBUTES))
_FUNCTIONS_ALLOWED = ", ".join(sorted(SAFE_FUNCTION_NAMES))
_METHODS_ALLOWED = ", ".join(sorted(ALLOWED_METHODS))


class _Validator(ast.NodeVisitor):
    def __init__(self, mode: str):
        self.allowed = _EXEC_NODES if mode == "exec" else _EVAL_NODES
        self.position = (1, 0)
        self.has_comprehension = False

    # -- reporting
    def refuse(self, node: ast.AST | None, what: str, why: str = "", *, code: str, **params: Any) -> None:
        """Refuse ``what`` (English, for logs) as the engine's ``code`` with ``params`` (the
        interfaces' words), at ``node`` or the position last visited."""
        line, col = (
            (node.lineno, getattr(node, "col_offset", 0))
            if node is not None and hasattr(node, "lineno")
            else self.position
        )
        message = f"line {line}, column {col + 1}: {what} is not allowed"
        error = UnsafeExpressionError(f"{message} ({why})" if why else message)
        raise error.with_code(code, line=line, column=col + 1, **params)

    def visit(self, node: ast.AST) -> None:
        if hasattr(node, "lineno"):
            self.position = (node.lineno, getattr(node, "col_offset", 0))
        kind = type(node)
        if kind in _REFUSED_NAMES:
            self.refuse(node, _REFUSED_NAMES[kind], code="unsafe-construct", construct=_KEYWORDS[kind])
        if kind not in self.allowed:
            self.refuse(
                node, f"{kind.__name__} ({ast.dump(node)[:40]})", code="unsafe-construct", construct=kind.__name__
            )
        super().visit(node)

    # -- names and constants
    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(
                node, f"the name {node.id!r}", "names starting with '_' are reserved", code="unsafe-name", name=node.id
            )
        if not isinstance(node.ctx, ast.Load) and node.id in SAFE_FUNCTION_NAMES:
            self.refuse(
                node,
                f"assigning to {node.id!r}",
                "it is a built-in function name",
                code="unsafe-function-assignment",
                name=node.id,
            )

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, _CONSTANT_TYPES):
            self.refuse(
                node, f"a {type(node.value).__name__} literal", code="unsafe-literal", type=type(node.value).__name__
            )
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            self.refuse(
                node,
                "an integer literal this large",
                f"limit {MAX_INT_BITS} bits",
                code="unsafe-integer-literal",
                limit=MAX_INT_BITS,
            )

    # -- attributes and calls
    def at_attr(self, node: ast.Attribute) -> None:
        """Report refusals at the attribute name itself, not at the start of ``obj.attr``."""
        if node.end_lineno == node.lineno and node.end_col_offset is not None:
            self.position = (node.lineno, node.end_col_offset - len(node.attr))
        else:
            self.position = (node.lineno, node.col_offset)

    def check_attribute_name(self, node: ast.Attribute) -> None:
        self.at_attr(node)
        if node.attr.startswith("_"):
            self.refuse(
                None,
                f"the attribute {node.attr!r}",
                "names starting with '_' are never accessible",
                code="unsafe-private-attribute",
                name=node.attr,
            )
        if node.attr in ("format", "format_map"):
            self.refuse(
                None,
                f"the method {node.attr!r}",
                "format strings can reach attributes of their arguments; use an f-string",
                code="unsafe-format-method",
                name=node.attr,
            )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.visit(node.value)  # innermost problem first: report `__class__` before `mro`
        self.check_attribute_name(node)
        if not isinstance(node.ctx, ast.Load):
            self.refuse(
                None, f"assigning to the attribute {node.attr!r}", code="unsafe-attribute-assignment", name=node.attr
            )
        if node.attr in ALLOWED_METHODS and node.attr not in DATA_ATTRIBUTES:
            self.refuse(
                None, f"using the method {node.attr!r} without calling it", code="unsafe-method-value", name=node.attr
            )
        if node.attr not in DATA_ATTRIBUTES:
            self.refuse(
                None,
                f"the attribute {node.attr!r}",
                f"allowed: {_ATTRIBUTES_ALLOWED}",
                code="unsafe-attribute",
                name=node.attr,
                allowed=_ATTRIBUTES_ALLOWED,
            )

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.visit(func)
            if func.id not in SAFE_FUNCTION_NAMES:
                self.refuse(
                    node,
                    f"calling {func.id!r}",
                    f"callable functions: {_FUNCTIONS_ALLOWED}",
                    code="unsafe-call",
                    name=func.id,
                    allowed=_FUNCTIONS_ALLOWED,
                )
        elif isinstance(func, ast.Attribute):
            self.visit(func.value)  # innermost problem first
            self.check_attribute_name(func)
            if func.attr not in ALLOWED_METHODS:
                self.refuse(
                    None,
                    f"calling the method {func.attr!r}",
                    f"callable methods: {_METHODS_ALLOWED}",
                    code="unsafe-method-call",
                    name=func.attr,
                    allowed=_METHODS_ALLOWED,
                )
        else:
            self.visit(func)  # e.g. report `lambda` in `(lambda: 1)()`
            self.refuse(node, "calling the result of an expression", code="unsafe-call-result")
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                self.refuse(keyword, "**-unpacking in a call", code="unsafe-unpacking")
            self.visit(keyword.value)

    # -- operators
    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINOPS:
            self.refuse(
                node, f"the operator {type(node.op).__name__}", code="unsafe-operator", operator=_operator_sign(node.op)
            )
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(key is None for key in node.keys):
            self.refuse(node, "**-unpacking in a dict", code="unsafe-unpacking")
        self.generic_visit(node)

    # -- comprehensions
    def check_comprehension(self, node: ast.AST) -> None:
        self.has_comprehension = True
        generators = node.generators  # type: ignore[attr-defined]
        if len(generators) != 1:
            self.refuse(node, "a comprehension with more than one 'for'", code="unsafe-comprehension-fors")
        if generators[0].is_async:
            self.refuse(node, "an async comprehension", code="unsafe-construct", construct="async for")
        self.check_target(generators[0].target, allow_subscript=False)
        self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = check_comprehension

    # -- statements (exec mode)
    def check_target(self, target: ast.AST, *, allow_subscript: bool = True) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.check_target(element, allow_subscript=allow_subscript)
            return
        if isinstance(target, ast.Subscript) and allow_subscript:
            if isinstance(target.slice, ast.Slice):
                self.refuse(target, "assigning to a slice", code="unsafe-slice-assignment")
            return
        if isinstance(target, ast.Attribute):
            self.refuse(
                target,
                f"assigning to the attribute {target.attr!r}",
                code="unsafe-attribute-assignment",
                name=target.attr,
            )
        if isinstance(target, ast.Starred):
            self.refuse(target, _REFUSED_NAMES[ast.Starred], code="unsafe-construct", construct=_KEYWORDS[ast.Starred])
        self.refuse(target, f"assigning to {type(target).__name__}", code="unsafe-target")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) not in _BINOPS:
            self.refuse(
                node, f"the operator {type(node.op).__name__}", code="unsafe-operator", operator=_operator_sign(node.op)
            )
        if not isinstance(node.target, ast.Name | ast.Subscript):
            self.refuse(node.target, "augmented assignment to this target", code="unsafe-target")
        self.check_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not isinstance(node.target, ast.Name | ast.Subscript):
            self.refuse(node.target, "annotated assignment to this target", code="unsafe-target")
        self.check_target(node.target)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.check_target(node.target, allow_subscript=False)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, ast.Name):
                self.refuse(target, "deleting anything but a variable", code="unsafe-delete")
        self.generic_visit(node)


def _validate_tree(tree: ast.AST, mode: str) -> _Validator:
    validator = _Validator(mode)
    try:
        validator.visit(tree)
    except RecursionError:
        raise UnsafeExpressionError("the expression is nested too deeply").with_code("nested-too-deeply") from None
    return validator
