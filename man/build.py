"""Generate the roff man pages in man/ from the commands themselves (`make man`).

Options, arguments and descriptions come from the typer app; EXAMPLES come from each command
module's hand-written EXAMPLES text; EXIT STATUS from cli/runner.py. Standalone executables get
NAME.1, umbrella-only commands thinkpipe-NAME.1. tests/test_docs.py fails when a page is stale.

    python man/build.py            # write man/*.1
    python man/build.py --check    # exit 1 if any page differs from what would be written
"""
from __future__ import annotations

import os
import sys
from importlib.metadata import version

import typer.main

from thinkpipe.cli import runner
from thinkpipe.cli.main import HELP, ORDER, STANDALONE, build_app, resolve

HERE = os.path.dirname(os.path.abspath(__file__))

MAIN_EXAMPLES = """\
synth-draw --task maze --count 2000 | reject-sample --model ckpt/cold --require correct,format,reflection > rrs.jsonl
grpo --model ckpt/rrs --output-dir ckpt/rl rl.jsonl > metrics.jsonl
thinkpipe eval --model ckpt/rl bench.jsonl --report report.html > scored.jsonl
thinkpipe convert scored.jsonl -o scored.parquet
"""


def esc(text: str) -> str:
    """Escape text for roff: backslashes, leading dots and quotes, hyphens in options."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines():
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def paragraphs(text: str) -> str:
    """Docstring text -> roff paragraphs (blank lines separate them)."""
    blocks = [" ".join(b.split()) for b in text.strip().split("\n\n") if b.strip()]
    return "\n.PP\n".join(esc(b) for b in blocks)


def page_name(name: str) -> str:
    return name if name in STANDALONE else f"thinkpipe-{name}"


def invocation(name: str) -> str:
    return name if name in STANDALONE else f"thinkpipe {name}"


def option_label(param) -> str:
    names = ", ".join(f"\\fB{esc(o)}\\fR" for o in sorted(param.opts, key=len))
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return names
    metavar = param.metavar
    if metavar is None:
        desc = getattr(param, "type_descriptor", None)
        choices = desc.choices if desc is not None and desc.is_choice else None
        metavar = "|".join(str(getattr(c, "value", c)) for c in choices) if choices else \
            param.name.upper()
    return f"{names} \\fI{esc(metavar)}\\fR"


def argument_synopsis(param) -> str:
    """DIR for a required argument, [FILE]... for optional repeated ones, SHELL, ..."""
    name = f"\\fI{esc(param.metavar or param.name.upper())}\\fR"
    if param.nargs == -1:
        return f"[{name}...]"
    return name if param.required else f"[{name}]"


def options_section(command) -> str:
    out = []
    for param in command.params:
        if param.param_type_name == "argument":
            out.append(f".TP\n\\fI{esc(param.metavar or param.name.upper())}\\fR\n"
                       f"{esc(param.help or '')}")
            continue
        help_text = esc(" ".join((param.help or "").split()))
        default = param.default
        if default not in (None, False, 0, "") and not getattr(param, "is_flag", False):
            help_text += f" Default: {esc(str(getattr(default, 'value', default)))}."
        out.append(f".TP\n{option_label(param)}\n{help_text}")
    out.append(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nPrint help and exit.")
    return "\n".join(out)


def exit_section() -> str:
    lines = [ln.strip() for ln in runner.__doc__.splitlines() if ln.strip()[:1].isdigit()]
    out = []
    for line in lines:
        code, _, meaning = line.partition(" ")
        out.append(f".TP\n.B {code}\n{esc(meaning.strip())}")
    return "\n".join(out)


def examples_section(text: str) -> str:
    return ".nf\n" + esc(text.strip()) + "\n.fi" if text.strip() else ""


def header(title: str, summary: str) -> str:
    return (f'.TH {title.upper()} 1 "" "thinkpipe {version("thinkpipe")}" "thinkpipe manual"\n'
            f".SH NAME\n{esc(title)} \\- {esc(summary)}\n")


def extra_sections(fn) -> list[str]:
    """A command module's MAN_SECTIONS {title: text}: paragraphs, and "name  text" lines (two
    spaces apart) as tagged paragraphs."""
    out = []
    for title, text in getattr(sys.modules[fn.__module__], "MAN_SECTIONS", {}).items():
        body = []
        for block in text.strip().split("\n\n"):
            lines = block.splitlines()
            if all("  " in ln.strip() or ln.startswith(" " * 8) for ln in lines):
                items = []
                for ln in lines:
                    if ln.startswith(" " * 8) and items:
                        items[-1][1] += " " + ln.strip()
                    else:
                        tag, _, rest = ln.strip().partition("  ")
                        items.append([tag, rest.strip()])
                body += [f".TP\n.B {esc(tag)}\n{esc(rest)}" for tag, rest in items]
            else:
                body.append(".PP\n" + esc(" ".join(block.split())))
        out.append(f".SH {title.upper()}\n" + "\n".join(body))
    return out


def command_page(name: str, command) -> str:
    fn, examples = resolve(name)
    doc = (fn.__doc__ or "").strip()
    summary = " ".join(doc.split("\n\n")[0].split()).rstrip(".")
    synopsis = f".B {esc(invocation(name))}\n[\\fIOPTIONS\\fR]" + "".join(
        " " + argument_synopsis(p) for p in command.params if p.param_type_name == "argument")
    parts = [header(page_name(name), summary), f".SH SYNOPSIS\n{synopsis}",
             f".SH DESCRIPTION\n{paragraphs(doc)}", f".SH OPTIONS\n{options_section(command)}",
             *extra_sections(fn), f".SH EXIT STATUS\n{exit_section()}"]
    if examples:
        parts.append(f".SH EXAMPLES\n{examples_section(examples)}")
    parts.append(".SH SEE ALSO\n.BR thinkpipe (1)")
    return "\n".join(parts) + "\n"


def main_page(group) -> str:
    items = []
    for name in ORDER:
        fn, _ = resolve(name)
        summary = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        items.append(f".TP\n.B {esc(invocation(name))}\n{esc(summary)} See \\fB{esc(page_name(name))}\\fR(1).")
    see_also = ",\n".join(f".BR {esc(page_name(n))} (1)" for n in ORDER)
    return "\n".join([
        header("thinkpipe", "composable Unix tools for building reasoning models"),
        ".SH SYNOPSIS\n.B thinkpipe\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIFILE\\fR...]",
        f".SH DESCRIPTION\n{paragraphs(HELP)}", ".SH COMMANDS", *items,
        ".SH OPTIONS\n.TP\n\\fB\\-\\-version\\fR\nPrint the version and exit.",
        f".SH EXIT STATUS\n{exit_section()}",
        f".SH EXAMPLES\n{examples_section(MAIN_EXAMPLES)}",
        f".SH SEE ALSO\n{see_also}"]) + "\n"


def pages() -> dict[str, str]:
    group = typer.main.get_command(build_app())
    out = {"thinkpipe.1": main_page(group)}
    for name in ORDER:
        out[page_name(name) + ".1"] = command_page(name, group.commands[name])
    return out


def main(argv: list[str]) -> int:
    stale = []
    for filename, text in pages().items():
        path = os.path.join(HERE, filename)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(filename)
            if "--check" not in argv:
                with open(path, "w") as f:
                    f.write(text)
    if "--check" in argv and stale:
        print("stale man pages (run make man): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
