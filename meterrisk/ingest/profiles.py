"""Source profiles: how one utility's export maps onto the input contract.

A profile is a small TOML file (see ``meterrisk/ingest/profiles/*.toml`` for the shipped
ones: ``default``, ``lcl``, ``wide``, ``register``, ``jp_cp932``). ``--profile`` takes a
shipped name or a path to your own file. Columns are named, or numbered from 1 when the
file has no header.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from meterrisk import config
from meterrisk.config import is_zone
from meterrisk.errors import InputFileError, MeterriskError

LAYOUTS = ("long", "wide", "register")
FOLDS = ("strict", "order")
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
    local_timezone
        Zone the homes live in, when it is not ``timezone`` (``lcl``: UTC stamps, London
        homes). A store keeps one local zone; ingest refuses a profile for homes elsewhere.
    max_kwh_per_slot
        Above this a half-hour value is quarantined as physically implausible.
    id_from_path
        A pattern the whole delivery path must match (``{household_id}/{_}.csv``: ``{household_id}``
        is the id, ``{_}`` any one path segment); then no id column. The delivery path is
        relative to the inbox or the folder given, so a stray folder never becomes an id.
    household_id_constant
        Every reading in the file belongs to this household (then no id column).
    fold
        Naive stamps in a fall-back hour: ``"strict"`` (default) quarantines them as
        ``ambiguous_local_time``; ``"order"`` takes the first occurrence of a repeated local
        time (per household, in file order) as the earlier instant and the second as the later.
    ts_offset_minutes
        Added to every timestamp before any check: ``5`` reads a 00:25 stamp as the half hour
        starting 00:30, ``-25`` as the one starting 00:00 (a vendor's constant clock artefact).
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
    local_timezone: str | None = None
    max_kwh_per_slot: float = config.DEFAULT_MAX_KWH_PER_SLOT
    slot_prefix: str = "hh"
    register_rollover: float = 100000.0
    id_from_path: str | None = None
    household_id_constant: str | None = None
    ts_offset_minutes: int = 0
    fold: str = "strict"
    source: str = "builtin"

    @property
    def unit_factor(self) -> float:
        return 0.001 if self.unit == "Wh" else 1.0

    @property
    def homes_zone(self) -> str | None:
        """The zone of the homes this profile is for: ``local_timezone``, else the zone of its
        naive stamps unless that is UTC (UTC-stamped exports say nothing about the homes)."""
        if self.local_timezone is not None:
            return self.local_timezone
        return None if self.timezone in UTC_NAMES else self.timezone

    def check_store_zone(self, store_zone: str) -> None:
        """Refuse to load homes of another zone into a store (its local dates and slots would be wrong)."""
        homes = self.homes_zone
        if homes is None or homes == store_zone:
            return
        override = ("" if self.local_timezone is not None else
                    f", or --timezone {store_zone} if its naive timestamps really are {store_zone} time")
        raise MeterriskError(
            f"profile {self.name!r} is for homes in {homes} but this store keeps local time in {store_zone}, "
            f"so local dates and half-hour slots would be wrong; load it into a store created in {homes}: "
            f"METERRISK_TZ={homes} meterrisk households --db NEW.duckdb REGISTRY.csv "
            f"(or meterrisk households --timezone {homes} ...){override}")

    @property
    def ids_from_content(self) -> bool:
        """Whether household ids are in the rows (so equal bytes mean equal readings anywhere)."""
        return self.id_from_path is None and self.household_id_constant is None

    def household_id_for(self, path, delivery_path: str) -> str | None:
        """The id every row of this delivery has, or None when the rows carry their own."""
        if self.household_id_constant is not None:
            return self.household_id_constant
        if self.id_from_path is None:
            return None
        match = _path_regex(self.id_from_path).fullmatch(delivery_path)
        if match is None:
            raise InputFileError(
                path, f"the delivery path {delivery_path!r} does not match id_from_path {self.id_from_path!r}, "
                "so it names no household",
                expected="a path relative to the folder given: `meterrisk ingest export/` for "
                         "export/<household>/201706.csv, or the file given as <household>/201706.csv from there",
            )
        return match.group("household_id")

    def validate(self) -> "Profile":
        where = f"profile {self.name!r} ({self.source})"
        if self.layout not in LAYOUTS:
            raise MeterriskError(f"{where}: layout must be one of {LAYOUTS}, not {self.layout!r}")
        id_sources = [k for k, v in (("[columns] household_id", self.columns.get("household_id")),
                                     ("id_from_path", self.id_from_path),
                                     ("household_id_constant", self.household_id_constant)) if v is not None]
        if len(id_sources) > 1:
            raise MeterriskError(f"{where}: a profile takes the household id from one place, not {' and '.join(id_sources)}")
        if self.household_id_constant is not None and not str(self.household_id_constant).strip():
            raise MeterriskError(f"{where}: household_id_constant must not be empty")
        if self.id_from_path is not None:
            _path_regex(self.id_from_path, where)
        required = [c for c in _REQUIRED[self.layout] if c != "household_id" or not id_sources]
        missing = [c for c in required if c not in self.columns]
        if missing:
            raise MeterriskError(f"{where}: [columns] is missing {missing} for layout {self.layout!r}")
        offset = self.ts_offset_minutes
        if isinstance(offset, bool) or not isinstance(offset, int) or not -1440 < offset < 1440:
            raise MeterriskError(f"{where}: ts_offset_minutes must be a whole number of minutes "
                                 f"between -1439 and 1439, not {offset!r}")
        if self.fold not in FOLDS:
            raise MeterriskError(f"{where}: fold must be 'strict' or 'order', not {self.fold!r}")
        if self.fold != "strict" and self.layout == "wide":
            raise MeterriskError(f"{where}: fold applies to timestamps; the wide layout numbers half hours "
                                 "(hh49, hh50 on a fall-back day) and needs none")
        if offset and self.layout == "wide":
            raise MeterriskError(f"{where}: ts_offset_minutes shifts timestamps; the wide layout has no timestamps")
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
        for zone in (self.timezone, self.local_timezone):
            if zone is not None and not is_zone(zone):
                raise MeterriskError(f"{where}: unknown time zone {zone!r}")
        if self.max_kwh_per_slot <= 0:
            raise MeterriskError(f"{where}: max_kwh_per_slot must be positive")
        return self

    def with_overrides(self, **overrides) -> "Profile":
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **clean).validate() if clean else self


#: Names of UTC itself: stamps in these say nothing about where the homes are.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu",
                       "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0",
                       "Greenwich", "Etc/Greenwich"})


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _path_regex(pattern: str, where: str = "profile") -> re.Pattern:
    """``{household_id}/{_}.csv`` -> a regex for whole delivery paths of that shape."""
    names = _PLACEHOLDER.findall(pattern)
    unknown = sorted(set(names) - {"household_id", "_"})
    if unknown:
        raise MeterriskError(f"{where}: id_from_path {pattern!r} has unknown placeholder {{{unknown[0]}}} "
                             "(use {household_id} for the id and {_} for any one path segment)")
    if names.count("household_id") != 1:
        raise MeterriskError(f"{where}: id_from_path {pattern!r} needs {{household_id}} once")
    parts = []
    for i, piece in enumerate(_PLACEHOLDER.split(pattern)):
        if i % 2 == 0:
            parts.append(re.escape(piece))
        else:
            parts.append("(?P<household_id>[^/]+)" if piece == "household_id" else "[^/]+")
    return re.compile("".join(parts))


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
