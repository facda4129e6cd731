"""The hints revealed so far, and how many are left."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class HintList(Static):
    def show(self, hints: tuple[str, ...], total: int) -> None:
        text = Text()
        for number, hint in enumerate(hints, 1):
            text.append(f"{number}. ", style="bold")
            text.append(hint + "\n\n")
        left = total - len(hints)
        if left:
            what = "the first hint" if not hints else "the next one"
            text.append(f"{left} of {total} hint{'s' if total != 1 else ''} hidden: "
                        f"press h for {what} (hints used are recorded)", style="dim")
        else:
            text.append(f"all {total} hints shown", style="dim")
        self.update(text)
