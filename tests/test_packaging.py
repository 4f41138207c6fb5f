"""The distribution maps every package folder, and the CLI keeps heavy imports out of --help."""
import os
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def package_folders():
    for top in ("cli", "core", "tools"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            if "__init__.py" in filenames:
                rel = os.path.relpath(dirpath, ROOT)
                yield "thinkpipe." + rel.replace(os.sep, "."), rel


def test_every_package_folder_is_in_pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        tool = tomllib.load(f)["tool"]["setuptools"]
    for package, folder in package_folders():
        assert package in tool["packages"], f"{folder} is missing from pyproject's packages"
        assert tool["package-dir"][package] == folder


def test_help_and_convert_do_not_import_heavy_libraries():
    code = ("import sys; from thinkpipe.cli.main import build_app; build_app(); "
            "import thinkpipe.core.records; "
            "print(sorted(m for m in ('torch', 'transformers', 'deepspeed', 'datasets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_imports_run_one_way():
    """core never imports tools or cli; tools never import cli, and a tool never imports another
    tool (DESIGN.md)."""
    import re
    pattern = re.compile(r"^\s*(?:from|import)\s+(thinkpipe(?:\.\w+)+|\.+\w*(?:\.\w+)*)", re.M)
    for package, folder in package_folders():
        for name in os.listdir(os.path.join(ROOT, folder)):
            if not name.endswith(".py"):
                continue
            text = open(os.path.join(ROOT, folder, name)).read()
            for found in pattern.findall(text):
                target = found
                if found.startswith("."):  # relative: resolve against this package
                    dots = len(found) - len(found.lstrip("."))
                    base = package.split(".")[:len(package.split(".")) - dots + 1]
                    target = ".".join(base + [p for p in found.lstrip(".").split(".") if p])
                if folder.startswith("core"):
                    assert "thinkpipe.tools" not in target and "thinkpipe.cli" not in target, \
                        f"{folder}/{name} imports {target}"
                if folder.startswith("tools"):
                    assert "thinkpipe.cli" not in target, f"{folder}/{name} imports {target}"
                if folder.startswith("tools" + os.sep):
                    tool = folder.split(os.sep)[1]
                    assert not (target.startswith("thinkpipe.tools.") and
                                target.split(".")[2] != tool), f"{folder}/{name} imports {target}"
