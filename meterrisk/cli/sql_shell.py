"""``meterrisk sql --shell``: an interactive, read-only SQL prompt (the analysts' DuckDB CLI).

The PyPI ``duckdb-cli`` lags the Python package and cannot read the store's storage version,
so analysts get this prompt instead, on the same DuckDB that wrote the files. Python's own
line reading (``input`` with ``readline`` for editing and history) is enough for a prompt of
statements ended by ``;``: a line-editing library would add a dependency for little more.

Statements run one by one, each result printed as ``meterrisk sql`` prints it; an error is one
``error:`` line and the prompt goes on. Read-only is the connection's (DuckDB refuses writes)
plus :func:`meterrisk.cli.sql.lock_down` (no ATTACH, COPY TO or other file access, settings
locked), so no statement can reach the live store or write a file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import duckdb
import polars as pl

PROMPT, MORE = "sql> ", "...> "
HELP = """\
Statements end with ';' and may span lines. Also:
  .tables         tables and views
  .schema NAME    the columns of NAME (.schema alone: every table)
  .help           this text
  .quit, .exit    leave (or Ctrl-D)
DESCRIBE NAME and SHOW TABLES work too. Read-only: no writes, no ATTACH, no COPY TO;
save a result with `meterrisk sql "QUERY" --format csv --out FILE`."""


def split_statements(text: str) -> tuple[list[str], str]:
    """(complete statements, the unfinished rest) of ``text``.

    A ``;`` ends a statement unless it is inside a quoted string or identifier, or a
    comment (``--`` to the end of the line, ``/* */``)."""
    done: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            end = text.find(c, i + 1)
            while end != -1 and text[end + 1:end + 2] == c:  # '' and "" escape the quote
                end = text.find(c, end + 2)
            if end == -1:
                break  # an open string: the statement goes on on the next line
            i = end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            if end == -1:
                break
            i = end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                break
            i = end + 2
        elif c == ";":
            stmt = text[start:i].strip()
            if stmt:
                done.append(stmt)
            start = i = i + 1
        else:
            i += 1
    return done, text[start:]


def _only_comments(text: str) -> bool:
    lines = [line.strip() for line in text.strip().splitlines()]
    return all(not line or line.startswith("--") for line in lines)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Shell:
    """Reads statements from ``stdin``; results through ``show`` (frames) and ``echo`` (lines),
    messages and errors to ``err``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, show: Callable[[pl.DataFrame], None],
                 echo: Callable[[str], None], *, stdin: TextIO | None = None, err: TextIO | None = None,
                 interactive: bool | None = None):
        self.con, self.show, self.echo = con, show, echo
        self.stdin = stdin or sys.stdin
        self.err = err or sys.stderr
        self.interactive = (bool(getattr(self.stdin, "isatty", lambda: False)())
                            if interactive is None else interactive)
        self.failed = 0
        self.quit = False

    # -- reading -----------------------------------------------------------------------------

    def _read(self, prompt: str) -> str | None:
        """One line without its newline; None at end of input (Ctrl-D)."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                self.err.write("\n")
                return None
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    def run(self) -> int:
        """The loop; the exit code (1 if a statement failed and the input was not a person's)."""
        if self.interactive:
            try:
                import readline  # noqa: F401  (line editing and history for input(); kept in memory only)
            except ImportError:  # not every Python has it; the prompt works without
                pass
        buffer = ""
        while not self.quit:
            try:
                line = self._read(MORE if buffer.strip() else PROMPT)
            except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, not the shell
                self.err.write("\n")
                buffer = ""
                continue
            if line is None:
                break
            if not buffer.strip() and line.strip().startswith("."):
                self.dot(line.strip())
                continue
            statements, buffer = split_statements(buffer + line + "\n")
            for stmt in statements:
                self.execute(stmt)
        if buffer.strip() and not _only_comments(buffer) and not self.quit:
            self.execute(buffer.strip())  # a last statement without its ';' (piped input)
        return 1 if self.failed and not self.interactive else 0

    # -- running -----------------------------------------------------------------------------

    def error(self, message: str) -> None:
        self.failed += 1
        self.err.write(f"error: {message}\n")
        self.err.flush()

    def execute(self, stmt: str) -> None:
        try:
            rel = self.con.sql(stmt)
            if rel is not None:
                self.show(pl.from_arrow(rel.to_arrow_table()))
        except duckdb.Error as exc:
            self.error(_first_line(exc) + _why(exc))
        except KeyboardInterrupt:
            self.con.interrupt()
            self.error("interrupted")

    def dot(self, line: str) -> None:
        word, _, arg = line.partition(" ")
        arg = arg.strip().rstrip(";").strip()
        if word in (".quit", ".exit", ".q"):
            self.quit = True
        elif word == ".help":
            self.err.write(HELP + "\n")
        elif word == ".tables":
            self.show(self._frame(
                "SELECT table_name AS name, CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind "
                "FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'pg_catalog') "
                "ORDER BY name"))
        elif word == ".schema":
            self.schema(arg)
        else:
            self.error(f"unknown command {word} (.help lists them)")

    def schema(self, name: str) -> None:
        if name:
            known = {r[0] for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE lower(table_name) = lower(?)",
                [name]).fetchall()}
            if not known:
                self.error(f"no table or view named {name} (.tables lists them)")
                return
            self.show(self._frame(f"SELECT column_name, column_type, \"null\" FROM (DESCRIBE {_q(known.pop())})"))
            return
        rows = self.con.execute(
            "SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema NOT IN ('information_schema', 'pg_catalog') "
            "GROUP BY table_name ORDER BY table_name").fetchall()
        for table, columns in rows:
            self.echo(f"{table}({columns})")

    def _frame(self, sql: str) -> pl.DataFrame:
        return pl.from_arrow(self.con.sql(sql).to_arrow_table())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _why(exc: BaseException) -> str:
    """A hint for the errors that come from the shell being read-only."""
    text = str(exc)
    # "base table": the snapshot's readings is a view over day files, so a write to it fails
    # in the binder before the read-only check.
    if any(m in text for m in ("read-only mode", "disabled by configuration", "configuration has been locked",
                               "Can only delete from base table", "Can only update base table",
                               "Can only insert into base table")):
        return " (this shell is read-only: .help)"
    return ""
