"""What an indexing run did, file by file: the outcome, the failing stage and reason, timings."""
from __future__ import annotations

import dataclasses

STAGES = ("decode", "copies", "faces", "ocr", "transcribe", "voices", "embed", "write")
STATUSES = ("indexed", "skipped", "moved", "pruned", "failed")


@dataclasses.dataclass
class FileOutcome:
    path: str
    status: str  # one of STATUSES
    stage: str | None = None
    reason: str | None = None
    video_id: int | None = None
    segments: int = 0
    duration: float = 0.0
    timings: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class IndexReport:
    outcomes: list[FileOutcome] = dataclasses.field(default_factory=list)
    wall_seconds: float = 0.0
    visual: bool = True
    job_id: int | None = None

    def of(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def video_seconds(self) -> float:
        return sum(o.duration for o in self.of("indexed"))

    def stage_seconds(self) -> dict[str, float]:
        return {s: sum(o.timings.get(s, 0.0) for o in self.outcomes) for s in STAGES}

    def stage_rates(self) -> dict[str, float]:
        """Video-hours per hour of each stage alone (the stages that took time): the slowest one
        bounds the run, since the others overlap it."""
        video = self.video_seconds
        return {stage: video / seconds for stage, seconds in self.stage_seconds().items() if seconds > 0 and video > 0}

    def as_dict(self) -> dict:
        return {
            **{status: len(self.of(status)) for status in STATUSES},
            "job_id": self.job_id,
            "video_seconds": round(self.video_seconds, 2),
            "wall_seconds": round(self.wall_seconds, 2),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds().items()},
            "stage_video_hours_per_hour": {k: round(v, 2) for k, v in self.stage_rates().items()},
            "visual": self.visual,
            "files": [dataclasses.asdict(o) for o in self.outcomes],
        }
