"""The real `mltrack` in a real terminal (tmux): it draws the plan, opens a day, quits on q."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install tmux) to drive a real terminal")


class Tmux:
    """One tmux server on a private socket, so the learner's own tmux is never touched."""

    def __init__(self):
        self.socket = f"mltrack-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "smoke")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


def _mltrack() -> str:
    found = shutil.which("mltrack")
    if found:
        return shlex.quote(found)
    return f"{shlex.quote(sys.executable)} -c 'from tracker.cli import main; main()'"


def test_mltrack_runs_in_a_terminal_and_quits_on_q(course):
    tmux = Tmux()
    env = f"MLTRACK_WORKSPACE={shlex.quote(str(course.root))} TERM=xterm-256color"
    # After mltrack exits, the pane says how it ended and stays long enough to be read.
    command = f"env {env} {_mltrack()}; echo \"mltrack exited with $?\"; sleep 30"
    try:
        tmux("new-session", "-d", "-s", "smoke", "-x", "100", "-y", "30", command)
        screen = tmux.wait_for("Phase 1 · Basics")
        assert "Add two numbers" in screen and "Mini course" in screen
        tmux.wait_for("streak")  # the record has been read
        tmux("send-keys", "-t", "smoke", "Home", "Enter")
        tmux.wait_for("Implement add(a, b)")
        tmux.wait_for("g Grade")  # the day's keys are in the footer
        tmux("send-keys", "-t", "smoke", "q")
        assert "mltrack exited with 0" in tmux.wait_for("mltrack exited with")
    finally:
        tmux.close()
    assert os.path.exists(course.db_path)  # it really used the workspace
