"""The peak memory of a process and all its descendants (worker processes included), sampled
from /proc while a block runs: what a machine must hold for a run. Proportional set sizes (PSS)
are summed, so pages that forked processes share count once, not once per process."""
from __future__ import annotations

import os
import threading
from pathlib import Path


def tree_rss(root: int, field: str = "Pss") -> int:
    """Bytes of memory (PSS) of ``root`` and every process below it (0 where /proc is not there).
    ``field="Pss_Anon"`` counts anonymous memory only: what a process allocated, not the pages of
    files it maps (a memory-mapped input that the kernel can drop at any time)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            rollup = (Path("/proc") / str(pid) / "smaps_rollup").read_text()
            total += int(next(line.split()[1] for line in rollup.splitlines() if line.startswith(f"{field}:"))) * 1024
        except (OSError, StopIteration, IndexError, ValueError):
            pass
        todo += children.get(pid, [])
    return total


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.bytes``: the largest sample seen."""

    def __init__(self, every: float = 0.2, field: str = "Pss"):
        self.every, self.field, self.bytes = every, field, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.bytes = max(self.bytes, tree_rss(os.getpid(), self.field))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.bytes = max(self.bytes, tree_rss(os.getpid(), self.field))
