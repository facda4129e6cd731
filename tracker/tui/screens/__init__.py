"""The screens of the TUI, one module each, with their styles in <name>.tcss."""
