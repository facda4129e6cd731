"""The widgets of the TUI, one module each; their styles are in widgets.tcss."""
