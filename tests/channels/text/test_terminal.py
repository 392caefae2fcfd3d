"""`python -m bot chat` as a person uses it: a real process on a pseudo-terminal (with
readline), and with piped input."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")
PROMPT = r"you> $"
UNNAMED_SECONDS = 5.0  # a chat waiting for keys shows it within this, if the kernel says
WAIT_SECONDS = 60.0  # start-up loads the sentence encoder; a busy CI machine is slow
DRAFT = (
    "Here is my draft post:\n"
    "Lovely day at Holyrood with the team today.\n"
    "Vote for the Greens next week!\n"
)


def chat_env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "INPUTRC": "/dev/null"}
    for name in ("MicrosoftAppId", "BOT_DATABASE_PATH"):
        env.pop(name, None)
    return env


class Terminal:
    """A child process on a pseudo-terminal, read and typed into like a person would."""

    def __init__(self, *, sigint_ignored: bool = False) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the chat
            if sigint_ignored:  # as a shell's background job without job control starts it
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "bot", "chat"], chat_env())
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.raw = b""
        self.mark = 0
        self.status: int | None = None

    @property
    def screen(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", errors="replace"))

    def since_mark(self) -> str:
        return self.screen[self.mark :]

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Read until `pattern` shows after the mark (the last thing typed)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = re.search(pattern, self.since_mark(), re.S)
            if found:
                return found
            if not self._read(0.2):
                break
        raise AssertionError(f"never saw {pattern!r}; the screen:\n{self.screen}")

    def type(self, keys: str) -> None:
        self.mark = len(self.screen)
        os.write(self.fd, keys.encode())

    def prompt(self) -> None:
        self.wait_for(PROMPT)

    def wait_until_waiting_for_keys(self) -> None:
        """Until the chat's main thread is blocked waiting for input (readline's select).
        A SIGINT that lands while readline is between two waits is only seen at the next
        key (CPython's readline checks signals only when its wait is interrupted): a
        person is never that quick, a test is. Linux only; elsewhere, no wait."""
        wchan = Path(f"/proc/{self.pid}/wchan")
        started = time.monotonic()
        deadline = started + WAIT_SECONDS
        named = False  # whether this kernel names where a thread waits at all
        while wchan.exists() and time.monotonic() < deadline:
            where = wchan.read_text()
            if where.startswith("poll_schedule_timeout"):  # in readline's select()
                return
            # "0" is a running thread (still between the prompt and its select), or a
            # kernel that names no waits: then, after a while, as before (no wait).
            named = named or where != "0"
            if not named and time.monotonic() - started > UNNAMED_SECONDS:
                return
            self._read(0.01)
        if wchan.exists():
            raise AssertionError(f"the chat never waited for keys; the screen:\n{self.screen}")

    def exit_code(self) -> int:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            self._read(0.2)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._read(0.2)
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        raise AssertionError(f"the chat did not exit; the screen:\n{self.screen}")

    def _read(self, seconds: float) -> bool:
        """False once the child has closed the terminal."""
        if select.select([self.fd], [], [], seconds)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the child is gone
                return False
            if not chunk:
                return False
            self.raw += chunk
        return True

    def close(self) -> None:
        if self.status is None:  # leave as a person would, so the chat can tidy up
            with contextlib.suppress(OSError, AssertionError):
                self.wait_until_waiting_for_keys()
                self.type("\x03")
                self.exit_code()
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except ProcessLookupError:
                pass
        os.close(self.fd)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    started = Terminal()
    try:
        started.prompt()
        yield started
    finally:
        started.close()


def number_of(screen: str, title: str) -> str:
    found = re.findall(rf"\[(\d+)\] {re.escape(title)}", screen)
    assert found, f"no button {title!r} on the screen:\n{screen}"
    return str(found[-1])


def test_the_chat_greets_and_a_paste_is_one_message(terminal: Terminal) -> None:
    assert "Try one of these:" in terminal.screen
    terminal.type(DRAFT)  # all at once, as a terminal delivers a paste
    pasted = terminal.mark
    terminal.prompt()
    terminal.type("privacy\n")
    terminal.wait_for(r"Privacy: ")
    answers = terminal.screen[pasted : terminal.mark]
    assert answers.count("you> ") == 1, f"the paste was not one message:\n{answers}"
    assert answers.count("Policy clauses") == 1
    assert "The problem: “Vote for the Greens next week!”" in answers


def test_a_bracketed_paste_is_one_message(terminal: Terminal) -> None:
    # A terminal with bracketed paste marks the paste; readline keeps it in the line
    # being edited, newlines and all, until Enter.
    terminal.type(f"\x1b[200~{DRAFT}\x1b[201~")
    pasted = terminal.mark
    terminal.wait_for(r"Vote for the Greens next week!")
    terminal.type("\n")
    terminal.prompt()
    terminal.type("privacy\n")
    terminal.wait_for(r"Privacy: ")
    answers = terminal.screen[pasted : terminal.mark]
    assert answers.count("you> ") == 1, f"the paste was not one message:\n{answers}"
    assert "The problem: “Vote for the Greens next week!”" in answers


def test_privacy_and_my_requests_work(terminal: Terminal) -> None:
    terminal.type("privacy\n")
    terminal.wait_for(r"Privacy: your question is used to answer you")
    terminal.prompt()
    terminal.type("my requests\n")
    terminal.wait_for(r"You have no requests to your line manager or the DCCT\.")
    assert "That's not something I can help with" not in terminal.screen


def test_line_editing_and_history(terminal: Terminal) -> None:
    terminal.type("rivacy\x01p\n")  # Ctrl-A: to the start of the line, then the missing p
    terminal.wait_for(r"Privacy: ")
    terminal.prompt()
    terminal.type("\x1b[A\n")  # up arrow: the last message again
    terminal.wait_for(r"Privacy: ")
    assert "^[[" not in terminal.screen


def test_an_escalation_answered_by_the_local_stand_in_comes_back(terminal: Terminal) -> None:
    terminal.type("Can I post about the Scottish Government's budget on my own account?\n")
    terminal.wait_for(r"Ask my line manager")
    terminal.prompt()
    terminal.type(number_of(terminal.screen, "Ask my line manager") + "\n")
    terminal.wait_for(r"Send request")
    terminal.prompt()
    terminal.type(number_of(terminal.screen, "Send request") + "\n")
    terminal.wait_for(r"Your question \(Enter keeps it as shown\): $")
    terminal.type("\n")
    terminal.wait_for(r"\[y/N\] $")
    terminal.type("y\n")
    terminal.wait_for(r"to improve the adviser.*\[y/N\] $")  # the second consent: left off
    terminal.type("\n")
    # The request reaches the stand-in line manager (this chat) by itself.
    terminal.wait_for(r"asks: is this OK to post\?.*Needs changes.*Delivered to")
    terminal.type(number_of(terminal.screen, "Needs changes") + "\n")
    terminal.wait_for(r"Your answer to Local user \(optional\): $")
    terminal.type("Keep it factual.\n")
    terminal.wait_for(r"Answer from Local user \(Line manager\).*OK with changes.*Keep it factual")
    terminal.prompt()
    terminal.type("my requests\n")
    terminal.wait_for(r"#1 to line manager: answered")


def test_ctrl_c_leaves_cleanly(terminal: Terminal) -> None:
    terminal.type("a half-typed que")
    # As a person would: the keys are on the screen before Ctrl-C. Sent in one burst, the
    # tty's interrupt can flush them between readline's select and its read, and readline
    # then waits for a key that never comes. Even after the echo, wait until readline is
    # back in its select: a SIGINT that lands between two waits is seen only at a key.
    terminal.wait_for("a half-typed que")
    terminal.wait_until_waiting_for_keys()
    terminal.type("\x03")
    assert terminal.exit_code() == 0
    assert "Traceback" not in terminal.screen
    assert "KeyboardInterrupt" not in terminal.screen


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads Linux's /proc")
def test_only_the_thread_reading_keys_can_take_ctrl_c(terminal: Terminal) -> None:
    """A SIGINT the kernel hands to another thread (numpy's BLAS threads, the app's loop)
    leaves readline waiting for a key, so every thread but the main one blocks it."""
    terminal.prompt()
    masks = {}
    for task in Path(f"/proc/{terminal.pid}/task").iterdir():
        status = (task / "status").read_text()
        blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
        masks[int(task.name)] = bool(blocked & (1 << (signal.SIGINT - 1)))
    assert len(masks) > 1, "the chat runs its app on threads of its own"
    assert masks.pop(terminal.pid) is False, "the main thread takes Ctrl-C"
    assert all(masks.values()), f"threads that could take Ctrl-C: {masks}"


def test_ctrl_c_leaves_cleanly_when_started_with_sigint_ignored() -> None:
    terminal = Terminal(sigint_ignored=True)
    try:
        terminal.prompt()
        terminal.wait_until_waiting_for_keys()
        terminal.type("\x03")
        assert terminal.exit_code() == 0
        assert "Traceback" not in terminal.screen
    finally:
        terminal.close()


def test_ctrl_d_leaves_cleanly(terminal: Terminal) -> None:
    terminal.type("\x04")
    assert terminal.exit_code() == 0
    assert "Traceback" not in terminal.screen


def test_piped_input_is_one_message_ends_cleanly_and_leaves_nothing_on_disk(
    tmp_path: Path,
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=DRAFT,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**chat_env(), "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)},
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.count("you> ") == 2  # the draft, then the end of input
    assert "Policy clauses" in done.stdout
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["tmp"], "the chat wrote files"
