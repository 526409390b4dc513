"""The ``meterrisk`` command. Each stage's commands live in a module of this package.

A module here that defines ``COMMANDS`` (a list of click commands) is picked up
automatically, so stages do not edit a shared list.
"""

from __future__ import annotations

import errno
import importlib
import pkgutil
import sys

import click
import duckdb

from meterrisk import __version__
from meterrisk.errors import MeterriskError
from meterrisk.store import StoreBusyError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MeterriskError as exc:
            _fail(str(exc), exc.hint, exc.exit_code)
        except StoreBusyError as exc:
            _fail(str(exc), "a scheduled flow is writing; read-only queries retry fine", 75)
        except FileNotFoundError as exc:
            _fail(str(exc), None, 2)
        except OSError as exc:
            if not not_writable(exc):
                raise
            _fail(f"cannot write {exc.filename}: {exc.strerror}" if exc.filename else f"cannot write: {exc}",
                  "run as the user who owns the data folder, or grant it write access", 2)
        except duckdb.Error as exc:
            # DuckDB reports a file it cannot write only when it first writes to it.
            if not any(s in str(exc).lower() for s in ("permission denied", "read-only file system")):
                raise
            _fail(f"cannot write: {str(exc).strip().splitlines()[0]}",
                  "run as the user who owns the data folder, or grant it write access", 2)


def not_writable(exc: BaseException) -> bool:
    """Whether ``exc`` says this user may not write there (Polars' PermissionError has no errno)."""
    return isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno == errno.EROFS)


def _fail(message: str, hint: str | None, code: int) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="meterrisk")
def main() -> None:
    """Frailty and isolation risk from half-hourly smart-meter readings.

    \b
    Example:
      meterrisk demo                       # synthetic cohort -> risk list, end to end
      meterrisk ingest --profile lcl DIR   # load real utility exports
    """
    from meterrisk.files import owner_only_umask

    owner_only_umask()  # the store, snapshot, models, exports and query output: 0600 / 0700


def _register() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register()
