"""One package per command, importable as a library (DESIGN.md, Layout)."""
