"""Code budgets (the style guide): a file read in one sitting, a function body on one screen."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_FILE_LINES, MAX_BODY_LINES = 400, 60
# (path, function) pairs allowed over the budget, each with its reason; empty is the goal
ALLOWED: dict[tuple[str, str], str] = {}


def sources():
    for top in ("cli", "core", "tools"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def body_lines(node) -> int:
    """Lines of a function's body, its docstring left out."""
    body = node.body
    doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
        and isinstance(body[0].value.value, str)
    start = body[1].lineno if doc and len(body) > 1 else body[0].lineno
    return node.end_lineno - start + 1


def test_files_and_functions_fit_their_budgets():
    over = []
    for path, text in sources():
        if text.count("\n") > MAX_FILE_LINES and (path, "") not in ALLOWED:
            over.append(f"{path}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    body_lines(node) > MAX_BODY_LINES and (path, node.name) not in ALLOWED:
                over.append(f"{path}: {node.name} has a {body_lines(node)}-line body")
    assert not over, "over budget (split it, or allow it in ALLOWED with a reason):\n" + "\n".join(over)


def test_the_budget_check_measures_what_it_says():
    tree = ast.parse('def f():\n    """doc\n    string"""\n' + "    x = 1\n" * 61)
    assert body_lines(tree.body[0]) == 61
