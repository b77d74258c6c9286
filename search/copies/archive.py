"""Copy matches kept up to date incrementally: a video whose descriptors are new is compared with
the archive once (at the end of the index run that wrote it, or at the next ``duplicates``), and
what it shares is kept in the catalog. Reading the archive's copies then costs no comparison."""
from __future__ import annotations

from .align import CopiedSpan
from .candidates import HashIndex
from .finder import spans_between
from .sound import sound_index
from .stored import copies_pending, copy_descriptors

KEPT_MIN_SECONDS = 2.0  # shorter shared footage is not kept (readers ask for 5 s by default)


def update_matches(library) -> int:
    """Compare every video not compared yet with the archive and keep what they share; how many
    videos were compared."""
    pending = set(copies_pending(library.sessions))
    if not pending:  # the usual case on a read: no hash is loaded
        return 0
    descriptors = copy_descriptors(library.sessions)
    index, sounds = HashIndex(descriptors), sound_index(descriptors)
    found: list[CopiedSpan] = []
    for video in descriptors:
        if video.video_id not in pending:
            continue
        # a pair of two new videos is aligned once, from the lower id
        others = [d for d in descriptors if d.video_id != video.video_id
                  and (d.video_id not in pending or d.video_id > video.video_id)]
        for spans in spans_between(video, others, index, KEPT_MIN_SECONDS, sounds).values():
            found.extend(spans)
    library.store_copy_matches(found, sorted(pending))
    return len(pending)
