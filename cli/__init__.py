"""Command-line layer: options -> config, streams opened, tool called, errors -> exit codes."""
