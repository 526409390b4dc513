"""Source profiles: how one utility's export maps onto the input contract.

A profile is a small TOML file (see ``meterrisk/ingest/profiles/*.toml`` for the shipped
ones: ``default``, ``lcl``, ``wide``, ``register``, ``jp_cp932``). ``--profile`` takes a
shipped name or a path to your own file. Columns are named, or numbered from 1 when the
file has no header.
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from meterrisk import config
from meterrisk.errors import MeterriskError

LAYOUTS = ("long", "wide", "register")
_REQUIRED = {
    "long": ("household_id", "ts", "kwh"),
    "wide": ("household_id", "date"),
    "register": ("household_id", "ts", "register"),
}


@dataclass(frozen=True)
class Profile:
    """Everything needed to turn one export into readings.

    Attributes
    ----------
    columns
        Contract field -> source column name (str) or 1-based position (int, no header).
    unit
        ``"kWh"`` or ``"Wh"`` for the energy/register values.
    timezone
        Zone of naive timestamps (and of wide-layout dates). Offsets in the data win.
    max_kwh_per_slot
        Above this a half-hour value is quarantined as physically implausible.
    """

    name: str
    layout: str = "long"
    columns: dict[str, str | int] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    header: bool = True
    decimal: str = "."
    unit: str = "kWh"
    timezone: str = config.DEFAULT_TZ
    max_kwh_per_slot: float = config.DEFAULT_MAX_KWH_PER_SLOT
    slot_prefix: str = "hh"
    register_rollover: float = 100000.0
    source: str = "builtin"

    @property
    def unit_factor(self) -> float:
        return 0.001 if self.unit == "Wh" else 1.0

    def validate(self) -> "Profile":
        where = f"profile {self.name!r} ({self.source})"
        if self.layout not in LAYOUTS:
            raise MeterriskError(f"{where}: layout must be one of {LAYOUTS}, not {self.layout!r}")
        missing = [c for c in _REQUIRED[self.layout] if c not in self.columns]
        if missing:
            raise MeterriskError(f"{where}: [columns] is missing {missing} for layout {self.layout!r}")
        if not self.header and not all(isinstance(v, int) for v in self.columns.values()):
            raise MeterriskError(f"{where}: header = false needs column positions (1-based integers)")
        if self.unit not in ("kWh", "Wh"):
            raise MeterriskError(f"{where}: unit must be 'kWh' or 'Wh', not {self.unit!r}")
        if len(self.delimiter) != 1:
            raise MeterriskError(f"{where}: delimiter must be one character")
        if self.decimal not in (".", ","):
            raise MeterriskError(f"{where}: decimal must be '.' or ','")
        if self.decimal == self.delimiter:
            raise MeterriskError(f"{where}: decimal and delimiter cannot both be {self.decimal!r}")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise MeterriskError(f"{where}: unknown encoding {self.encoding!r}") from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MeterriskError(f"{where}: unknown time zone {self.timezone!r}") from None
        if self.max_kwh_per_slot <= 0:
            raise MeterriskError(f"{where}: max_kwh_per_slot must be positive")
        return self

    def with_overrides(self, **overrides) -> "Profile":
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **clean).validate() if clean else self


def builtin_names() -> list[str]:
    folder = resources.files("meterrisk.ingest").joinpath("profiles")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str | Path | None = None) -> Profile:
    """Load a shipped profile by name, or a TOML file by path (default: ``default``)."""
    spec = str(name_or_path or "default")
    path = Path(spec)
    if path.suffix == ".toml" and path.exists():
        text, source = path.read_text(encoding="utf-8"), str(path)
    elif spec in builtin_names():
        entry = resources.files("meterrisk.ingest").joinpath("profiles").joinpath(f"{spec}.toml")
        text, source = entry.read_text(encoding="utf-8"), "builtin"
    else:
        raise MeterriskError(
            f"no profile {spec!r}",
            hint=f"use one of {', '.join(builtin_names())} or a path to a .toml file",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MeterriskError(f"profile {source}: not valid TOML: {exc}") from None
    known = set(Profile.__dataclass_fields__) - {"source"}
    unknown = set(data) - known
    if unknown:
        raise MeterriskError(f"profile {source}: unknown keys {sorted(unknown)}", hint=f"known keys: {sorted(known)}")
    data.setdefault("name", path.stem if source != "builtin" else spec)
    return Profile(source=source, **data).validate()
