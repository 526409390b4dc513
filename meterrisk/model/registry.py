"""Model folders: ``models/<version>/{model.skops, manifest.json, MODEL_CARD.md}``.

The fitted pipeline is stored with skops (no pickle: loading never runs arbitrary code).
Loading checks, in this order, and fails with a clear MeterriskError:
the file hash, the types inside the file (only scikit-learn, NumPy, SciPy and our own
transformer are accepted), the scikit-learn major.minor it was built with, and that the
manifest's feature list is the one the pipeline was fitted on.
"""

from __future__ import annotations

import json
import os
import platform
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
import sklearn
import skops
import skops.io as sio

from meterrisk.errors import MeterriskError
from meterrisk.files import sha256_of

MODEL_FILE = "model.skops"
#: Optional second pipeline: the change-aware trend model (meterrisk.model.change).
TREND = "trend"
MANIFEST = "manifest.json"
CARD = "MODEL_CARD.md"
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "meterrisk.model.pipeline.")


def new_version(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")


def library_versions() -> dict:
    import duckdb

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
    }


def _major_minor(v: str) -> str:
    return ".".join(v.split(".")[:2])



@dataclass
class LoadedModel:
    pipeline: object
    manifest: dict
    path: Path
    trend: object | None = None  # the trend pipeline, when the folder has one

    @property
    def trend_features(self) -> list[str]:
        return list(self.manifest.get(TREND, {}).get("feature_names", []))

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def features(self) -> list[str]:
        return list(self.manifest["feature_names"])


def save(pipeline, manifest: dict, models_dir: str | Path, *, card: str | None = None,
         extra: dict | None = None) -> Path:
    """Write a model folder atomically (build in a temp folder, then rename).

    ``extra``: more pipelines by name (``{"trend": pipe}``), each written as ``<name>.skops``
    with its file name and hash under ``manifest[name]`` (which must exist).
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = manifest["version"]
    final = models_dir / version
    if final.exists():
        raise MeterriskError(f"model folder {final} already exists", hint="use another --version")
    tmp = models_dir / f".{version}.tmp-{os.getpid()}"
    tmp.mkdir()
    # Trees compress about 4x; loading is unchanged.
    sio.dump(pipeline, tmp / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    manifest = {**manifest, "model_file": MODEL_FILE, "model_sha256": sha256_of(tmp / MODEL_FILE)}
    for name, pipe in (extra or {}).items():
        file = f"{name}.skops"
        sio.dump(pipe, tmp / file, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        manifest[name] = {**manifest[name], "model_file": file, "model_sha256": sha256_of(tmp / file)}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n")
    if card is not None:
        (tmp / CARD).write_text(card)
    os.replace(tmp, final)
    return final


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o)}")


#: ``models/CURRENT`` holds the version name of the promoted model: the one that scores.
POINTER = "CURRENT"


def models_in(models_dir: str | Path) -> list[Path]:
    """Complete model folders (with a manifest), oldest first (version names sort by time)."""
    return sorted(p for p in Path(models_dir).glob("*")
                  if (p / MANIFEST).exists() and not p.name.startswith("."))


def current(models_dir: str | Path = "models") -> Path:
    """The model that scores: the one ``models/CURRENT`` names.

    Without a pointer, a lone model is current (nothing else can be meant: the train flow
    always promotes a first model, so a lone unpointed one comes from ``meterrisk train``).
    With several, choosing one is a decision, not "the newest": the newest may be a model
    the train flow refused to promote. A pointer to a folder that is gone is an error too.
    """
    models_dir = Path(models_dir)
    pointer = models_dir / POINTER
    if pointer.exists():
        name = pointer.read_text(encoding="utf-8").strip()
        path = models_dir / name
        if not (path / MANIFEST).exists():
            raise MeterriskError(f"{pointer} names {name!r}, which is not a model folder in {models_dir}/",
                                 hint=f"promote an existing model (echo VERSION > {pointer}) or pass --model")
        return path
    found = models_in(models_dir)
    if not found:
        raise MeterriskError(f"no trained model in {models_dir}/", hint="run `meterrisk train` first or pass --model")
    if len(found) > 1:
        raise MeterriskError(f"{len(found)} models in {models_dir}/ and no {pointer} naming the promoted one",
                             hint=f"pass --model {models_dir}/VERSION, or promote one: echo VERSION > {pointer} "
                                  f"(newest: {found[-1].name})")
    return found[0]


def is_current(path: str | Path, models_dir: str | Path = "models") -> bool:
    """Whether ``path`` is the model :func:`current` picks (False when none can be picked)."""
    try:
        return current(models_dir).resolve() == Path(path).resolve()
    except MeterriskError:
        return False


def promote(models_dir: str | Path, candidate: str | Path) -> None:
    """Point ``models/CURRENT`` at ``candidate`` (atomically: a reader sees the old or the new name)."""
    pointer = Path(models_dir) / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(Path(candidate).name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)


def load(path: str | Path, *, available_features: list[str] | None = None) -> LoadedModel:
    """Load and verify a model folder; see the module docstring for the checks."""
    path = Path(path)
    mpath = path / MANIFEST
    if not mpath.exists():
        raise MeterriskError(f"{path} is not a model folder (no {MANIFEST})", hint="pass models/<version>")
    manifest = json.loads(mpath.read_text())
    pipeline = _load_pipeline(path, manifest, manifest)
    trend = _load_pipeline(path, manifest, manifest[TREND]) if TREND in manifest else None
    if available_features is not None:
        needed = dict.fromkeys([*manifest.get("feature_names", []), *manifest.get(TREND, {}).get("feature_names", [])])
        missing = [f for f in needed if f not in set(available_features)]
        if missing:
            raise MeterriskError(
                f"model {manifest.get('version')} needs {len(missing)} feature(s) the current feature "
                f"stage does not produce: {', '.join(missing[:5])}",
                hint="retrain with `meterrisk train` on the current features",
            )
    return LoadedModel(pipeline=pipeline, manifest=manifest, path=path, trend=trend)


def _load_pipeline(path: Path, manifest: dict, entry: dict):
    """One verified pipeline: ``entry`` holds model_file, model_sha256 and feature_names."""
    model_file = path / entry.get("model_file", MODEL_FILE)
    if entry.get("model_sha256") and sha256_of(model_file) != entry["model_sha256"]:
        raise MeterriskError(f"{model_file} does not match the hash in its manifest", hint="the folder was altered: retrain")
    untrusted = sio.get_untrusted_types(file=model_file)
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign:
        raise MeterriskError(f"{model_file} contains types we do not load: {', '.join(foreign)}")
    built = manifest.get("library_versions", {}).get("scikit-learn", "unknown")
    if _major_minor(built) != _major_minor(sklearn.__version__):
        raise MeterriskError(
            f"model {manifest.get('version')} was built with scikit-learn {built}; "
            f"this environment has {sklearn.__version__}",
            hint="retrain with `meterrisk train` (or install the same scikit-learn major.minor)",
        )
    pipeline = sio.load(model_file, trusted=untrusted)
    fitted = [str(f) for f in getattr(pipeline, "feature_names_in_", [])]
    features = list(entry.get("feature_names", []))
    if fitted and fitted != features:
        raise MeterriskError(
            f"model {manifest.get('version')}: manifest lists {len(features)} features but the "
            f"pipeline was fitted on {len(fitted)} different ones",
            hint="the manifest was edited or belongs to another model: retrain",
        )
    return pipeline
