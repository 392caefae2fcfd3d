"""`python -m bot chat`: the text channel in a terminal.

Keys are read on the main thread, with the standard library's readline (line editing,
history for this session only) when both ends are a terminal; Ctrl-C and Ctrl-D end the
chat cleanly. The app runs on an event loop in a second thread, so the escalation worker
keeps going while the person types (the judge itself runs on a worker thread: the
dialogue hands it to `asyncio.to_thread`), and a card that arrives meanwhile is printed
above the prompt.

A paste is one message: after a line, the lines already waiting behind it (a paste
arrives at once; nobody types a whole line within PASTE_SECONDS) belong to the same
message. A terminal with bracketed paste hands readline the whole paste itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

from bot.channels.text.channel import Chosen, TextChannel
from bot.channels.text.render import Style, input_label, plain_text
from bot.channels.text.setup import open_text_channel, terminal_settings
from bot.core import Adviser
from bot.settings import Settings

log = logging.getLogger("bot.channels.text")

PASTE_SECONDS = 0.1
PROMPT = "you> "
QUIT = frozenset({"quit", "exit", "bye"})
YES = frozenset({"y", "yes", "true", "1", "on"})
IN_MEMORY = ":memory:"  # SQLite's name for a database that is never written to disk
BANNER = (
    "Social media policy adviser, in this terminal. It runs on this machine only, and "
    "keeps your requests and feedback in memory until you leave: nothing is saved.\n"
    "Type a question or paste a draft post and press Enter. To press a button, type its "
    "number in [brackets]. Type quit or press Ctrl-D to leave."
)
HINT = "To press a button, type its number in [brackets]. Type quit or press Ctrl-D to leave."
STOP_SECONDS = 15.0


class Keys(Protocol):
    """Where the person's messages come from."""

    prompt: str | None  # shown while waiting for a line, else None

    def read(self, prompt: str, *, remember: bool = True) -> str | None:
        """One message (a paste is one); None at the end of input. Ctrl-C raises
        KeyboardInterrupt."""
        ...

    def typed(self) -> str:
        """What the person has typed at the prompt so far (to redraw it)."""
        ...


def _waiting(fd: int, seconds: float) -> bool:
    return bool(select.select([fd], [], [], seconds)[0])


class ReadlineKeys:
    """A terminal: readline's editing and a history of this session (never saved)."""

    def __init__(self, fd: int) -> None:
        import readline  # only a terminal needs it

        self.readline = readline
        self.fd = fd
        self.prompt: str | None = None
        readline.set_auto_history(False)  # a paste goes in as one entry, inputs not at all

    def read(self, prompt: str, *, remember: bool = True) -> str | None:
        lines = []
        try:
            lines.append(self._line(prompt))
            while _waiting(self.fd, PASTE_SECONDS):
                lines.append(self._line(""))
        except EOFError:
            if not lines:
                return None
        text = "\n".join(lines)
        if remember and text.strip():
            self.readline.add_history(text)
        return text

    def _line(self, prompt: str) -> str:
        self.prompt = prompt
        try:
            return input(prompt)
        finally:
            self.prompt = None

    def typed(self) -> str:
        return str(self.readline.get_line_buffer())


class StreamKeys:
    """A pipe or file (or a terminal whose output is redirected): lines from the raw
    descriptor, so "already waiting" means what the descriptor holds."""

    def __init__(self, fd: int, write: Callable[[str], None]) -> None:
        self.fd = fd
        self.write = write
        self.prompt: str | None = None
        self._buffer = b""
        self._ended = False

    def read(self, prompt: str, *, remember: bool = True) -> str | None:
        self.write(prompt)
        self.prompt = prompt
        try:
            first = self._line(None)
        finally:
            self.prompt = None
        if first is None:
            return None
        lines = [first]
        while (more := self._line(PASTE_SECONDS)) is not None:
            lines.append(more)
        return "\n".join(lines)

    def typed(self) -> str:
        return ""

    def _line(self, seconds: float | None) -> str | None:
        """The next line; None at the end, or if none is complete within `seconds`."""
        while b"\n" not in self._buffer and not self._ended:
            if seconds is not None and not _waiting(self.fd, seconds):
                return None
            chunk = os.read(self.fd, 65536)
            self._ended = not chunk
            self._buffer += chunk
        line, newline, self._buffer = self._buffer.partition(b"\n")
        if not newline and not line:
            return None
        return line.decode("utf-8", errors="replace").rstrip("\r")


class Screen:
    """Output from both threads, one block at a time; a card that arrives while the
    person is typing goes above their prompt, which is drawn again."""

    def __init__(self, out: TextIO, redraw: bool) -> None:
        self.out = out
        self.redraw = redraw
        self.keys: Keys | None = None
        self._lock = threading.Lock()
        self._shown = False  # since the last prompt

    def before_prompt(self) -> None:
        """A blank line between the bot's last words and the next prompt."""
        with self._lock:
            if self._shown:
                self.out.write("\n")
                self._shown = False

    def show(self, text: str) -> None:
        with self._lock:
            prompt = self.keys.prompt if self.keys is not None else None
            if prompt is not None and self.redraw and self.keys is not None:
                self.out.write(f"\r\x1b[K\n{text}\n\n{prompt}{self.keys.typed()}")
            elif prompt is not None:
                self.out.write(f"\n{text}\n\n{prompt}")
            else:
                self.out.write(f"\n{text}\n")
                self._shown = True
            self.out.flush()

    def write(self, text: str) -> None:
        with self._lock:
            self.out.write(text)
            self.out.flush()


class LoopThread:
    """The app, on its own event loop in a daemon thread (Ctrl-C belongs to the main one)."""

    def __init__(
        self, settings: Settings, adviser: Adviser, show: Callable[[str], None], style: Style
    ) -> None:
        self.settings = settings
        self.adviser = adviser
        self.show = show
        self.style = style
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready: concurrent.futures.Future[TextChannel] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, name="adviser-loop", daemon=True)

    def start(self) -> TextChannel:
        self.thread.start()
        return self._ready.result()

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(STOP_SECONDS)

    def _main(self) -> None:
        if hasattr(signal, "pthread_sigmask"):
            # Ctrl-C is the main thread's: readline notices a SIGINT only when it breaks
            # its wait for keys, so one the kernel hands to this thread (or to the worker
            # threads it starts, which inherit the mask) went unheeded until a key came.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            asyncio.run(self._serve())
        except Exception as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.exception("terminal.stopped_badly")

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with open_text_channel(self.settings, self.adviser, self.show, self.style) as chat:
            self._ready.set_result(chat)
            await self._stop.wait()


def ask_inputs(
    keys: Keys, screen: Screen, inputs: Sequence[Mapping[str, Any]]
) -> dict[str, str] | None:
    """The values a card's inputs would send, asked one by one; None at the end of input."""
    values: dict[str, str] = {}
    for item in inputs:
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        label = input_label(item)
        kind = item.get("type")
        if kind == "Input.Toggle":
            on, off = str(item.get("valueOn", "true")), str(item.get("valueOff", "false"))
            ticked = str(item.get("value", off)) == on
            answer = keys.read(f"  {label}? [{'Y/n' if ticked else 'y/N'}] ", remember=False)
            if answer is None:
                return None
            said = answer.strip().lower()
            values[ident] = on if said in YES or (not said and ticked) else off
        elif kind == "Input.ChoiceSet":
            choices = [c for c in item.get("choices") or [] if isinstance(c, Mapping)]
            screen.show("\n".join(f"  {n}) {c.get('title', '')}" for n, c in enumerate(choices, 1)))
            answer = keys.read(f"  {label} (number, Enter keeps the default) ", remember=False)
            if answer is None:
                return None
            picked = [p.strip() for p in answer.split(",") if p.strip().isdigit()]
            chosen = [str(choices[int(p) - 1].get("value", "")) for p in picked
                      if 0 < int(p) <= len(choices)]  # fmt: skip
            values[ident] = ",".join(chosen) if chosen else str(item.get("value") or "")
        else:
            value = str(item.get("value") or "")
            required = item.get("isRequired") is True
            hint = "Enter keeps it as shown" if value else "required" if required else "optional"
            while True:
                answer = keys.read(f"  {label} ({hint}): ", remember=False)
                if answer is None:
                    return None
                said = answer.strip() or value
                if said or not required:
                    break
            limit = item.get("maxLength")
            values[ident] = said[:limit] if isinstance(limit, int) and limit > 0 else said
    return values


def run_chat(settings: Settings, adviser: Adviser, stdin: TextIO, out: TextIO) -> int:
    interactive = stdin.isatty() and out.isatty()
    if interactive:
        # Ctrl-C leaves the chat, whatever the parent did: a shell starting a job in the
        # background without job control makes it ignore SIGINT, and Python then installs
        # no KeyboardInterrupt handler at all.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    screen = Screen(out, redraw=interactive)
    keys: Keys = (
        ReadlineKeys(stdin.fileno()) if interactive else StreamKeys(stdin.fileno(), screen.write)
    )
    screen.keys = keys
    # In memory: what the person types never reaches the disk, however the chat ends.
    local = terminal_settings(settings, Path(IN_MEMORY))
    style = Style.for_stream(out)
    app = LoopThread(local, adviser, screen.show, style)
    try:
        try:
            channel = app.start()
        except OSError as exc:  # no local port, or the database cannot open
            sys.stderr.write(f"error: the chat could not start: {exc}\n")
            return 2
        if hasattr(signal, "pthread_sigmask"):
            # Every other thread is started: Ctrl-C is now the main thread's alone (it was
            # blocked from the first line, bot/__main__.py, so a Ctrl-C during start-up is
            # delivered here and ends the chat cleanly).
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        screen.show(plain_text(BANNER, style))
        app.run(channel.welcome())
        converse(channel, app, keys, screen)
    except KeyboardInterrupt:
        screen.write("\n")
    finally:
        # A second Ctrl-C leaves at once: there is nothing on disk to tidy up.
        with contextlib.suppress(KeyboardInterrupt):
            app.stop()
    return 0


def converse(channel: TextChannel, app: LoopThread, keys: Keys, screen: Screen) -> None:
    """Read messages until the person leaves."""
    while True:
        screen.before_prompt()
        typed = keys.read(PROMPT)
        if typed is None:
            screen.write("\n")
            return
        text = typed.strip()
        if not text:
            continue
        if text.lower() in QUIT:
            return
        found = channel.lookup(text)
        if isinstance(found, str):
            screen.show(found)
        elif isinstance(found, Chosen):
            values = ask_inputs(keys, screen, found.inputs) if found.inputs else {}
            if values is None:
                return
            app.run(channel.press(found, values))
        else:
            app.run(channel.say("help" if text == "?" else text))
            if text.lower() in ("help", "?"):
                screen.show(HINT)
