"""Algebra text from untrusted records -> a sympy expression, without eval.

sympy's `parse_expr` and `sympify` hand the (transformed) text to Python's `eval`, and sympy's
own documentation says never to give them untrusted input: a model that answers
`__import__('os').system('...')` would run it. Here Python's `ast` parses the text and only

    numbers, names, + - * / ** (binary), + - (unary), and calls of FUNCTIONS by name

become sympy objects; anything else (attributes, subscripts, lambdas, strings, keywords) is a
ValueError. Names become Symbols except `pi` and `E` (the constants, as in sympy's parser);
`ln` is `log`. Sizes are bounded (MAX_CHARS, MAX_NODES, |exponent| <= MAX_EXPONENT) so that
`9**9**9**9` cannot hang the comparison.

evaluate=False keeps the written structure the way sympy's `parse_expr(..., evaluate=False)`
does: a - b is Add(a, Mul(-1, b)), -a is sympy's -a, a / b is Mul(a, Pow(b, -1)), and nested sums and products are
flattened into one Add/Mul (MME-Reasoning's official comparison looks at func and args).
"""
from __future__ import annotations

import ast

MAX_CHARS = 2000
MAX_NODES = 400
MAX_EXPONENT = 64
FUNCTIONS = ("sqrt", "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
             "tanh", "Abs")
ALIASES = {"ln": "log", "abs": "Abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}


def parse(text: str, evaluate: bool = True):
    """sympy expression of `text` (Python syntax, ** for powers). ValueError if not algebra."""
    if len(text) > MAX_CHARS:
        raise ValueError(f"expression longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"not an expression: {e.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError(f"expression with more than {MAX_NODES} parts")
    return _Builder(evaluate).build(tree.body)


class _Builder:
    def __init__(self, evaluate: bool):
        import sympy
        self.sp, self.evaluate = sympy, evaluate

    def build(self, node: ast.AST):
        sp = self.sp
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
        if isinstance(node, ast.Name):
            return {"pi": sp.pi, "E": sp.E}.get(node.id) or sp.Symbol(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            value = self.build(node.operand)
            return value if isinstance(node.op, ast.UAdd) else -value   # sympy's own negation
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            terms = self.chain(node, ast.Add, ast.Sub, self.negate)
            return sp.Add(*terms, evaluate=self.evaluate)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            factors = self.chain(node, ast.Mult, ast.Div, self.invert)
            return sp.Mul(*factors, evaluate=self.evaluate)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exponent = self.build(node.left), self.build(node.right)
            if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
                raise ValueError(f"exponent beyond {MAX_EXPONENT}")
            return sp.Pow(base, exponent, evaluate=self.evaluate)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = ALIASES.get(node.func.id, node.func.id)
            if name in FUNCTIONS:
                return getattr(sp, name)(*map(self.build, node.args), evaluate=self.evaluate)
        raise ValueError(f"not allowed in an expression: {ast.dump(node)[:60]}")

    def chain(self, node: ast.AST, same: type, inverse: type, invert) -> list:
        """Operands of a run of + and - (or * and /), the inverted ones wrapped by `invert`."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, same):
            return self.chain(node.left, same, inverse, invert) + \
                self.chain(node.right, same, inverse, invert)
        if isinstance(node, ast.BinOp) and isinstance(node.op, inverse):
            return self.chain(node.left, same, inverse, invert) + [invert(self.build(node.right))]
        return [self.build(node)]

    def negate(self, value):
        return self.sp.Mul(-1, value, evaluate=self.evaluate)

    def invert(self, value):
        return self.sp.Pow(value, -1, evaluate=self.evaluate)
