"""The ranking parameters a search uses: the settings' defaults, or a profile learned from data.

``vidsearch tune`` learns how to fuse the lists of a hybrid search (method, weights, RRF
constant) and how eagerly neighbouring hits merge into one moment, from labelled queries, and
saves the result as a named profile in the data dir. Search, similar and the server then use the
active profile, except for any value the user set explicitly in a ``VIDSEARCH_*`` variable (an
explicit choice beats a learned one). Profiles are small JSON files written atomically.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from core.errors import InvalidInput
from core.files import write_text_atomically
from core.settings import Settings

_FIELDS = {  # Ranking field -> the setting that gives its default
    "fusion": "hybrid_fusion",
    "weights": "hybrid_weights",
    "rrf_k": "rrf_k",
    "merge_close": "moment_merge",
    "merge_border": "moment_border",
    "moment_max": "moment_max",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class Ranking:
    fusion: str
    weights: dict[str, float]
    rrf_k: int
    merge_close: float
    merge_border: float
    moment_max: float

    def replace(self, **changes) -> "Ranking":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _profiles(settings: Settings) -> Path:
    return settings.data_dir / "profiles"


def default_ranking(settings: Settings) -> Ranking:
    return Ranking(**{field: getattr(settings, name) for field, name in _FIELDS.items()})


def active_profile(settings: Settings) -> tuple[str, dict] | None:
    """(name, saved profile) of the active profile, or None."""
    pointer = _profiles(settings) / "active"
    try:
        name = pointer.read_text().strip()
        return name, json.loads((_profiles(settings) / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def ranking_for(settings: Settings) -> Ranking:
    """The settings' ranking, with the active profile's learned values where no variable was set."""
    ranking = default_ranking(settings)
    found = active_profile(settings)
    if found is None:
        return ranking
    learned = found[1].get("ranking", {})
    explicit = settings.model_fields_set
    changes = {field: learned[field] for field, name in _FIELDS.items()
               if field in learned and name not in explicit}
    return ranking.replace(**changes)


def save_profile(settings: Settings, name: str, ranking: Ranking, report: dict) -> Path:
    """Write ``name`` (atomically) and make it the active profile."""
    if not _NAME.match(name):
        raise InvalidInput(f"profile name {name!r}: use letters, digits, '.', '_' or '-'")
    folder = _profiles(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    write_text_atomically(path, json.dumps({"name": name, "ranking": ranking.as_dict(), **report}, indent=1))
    write_text_atomically(folder / "active", name + "\n")
    return path


def reset_profile(settings: Settings) -> bool:
    """Stop using the active profile (the file stays); True when one was active."""
    pointer = _profiles(settings) / "active"
    if not pointer.exists():
        return False
    pointer.unlink()
    return True
