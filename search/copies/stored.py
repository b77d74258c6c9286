"""Copy descriptors and matches as the catalog keeps them, read for the copies search.

The library writes them with the video they describe (``CopyHashes`` in, packed rows out); what
the copies search asks of them (whose descriptors of the current method, which are not compared
yet, what matched) is read here, in the copies room, through the library's sessions."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from core.catalog import CopyDescriptors, CopyMatch, Video
from core.rows import CopyHashes
from .align import CopiedSpan, Descriptors
from .groups import FileFacts
from .hashing import HASH_ID


def copy_hashes(rate: float, times, hashes, mirrored, sound_times=None, sound_hashes=None) -> CopyHashes:
    """Descriptors of the current method, as the library stores them."""
    return CopyHashes(HASH_ID, float(rate), times, hashes, mirrored, sound_times, sound_hashes)


def from_row(row: CopyDescriptors, video: Video) -> Descriptors:
    copies = row.unpacked()
    return Descriptors(video.id, copies.times, copies.hashes, float(video.duration or 0.0), copies.rate,
                       copies.mirrored, copies.sound_times, copies.sound_hashes)


def facts_of(video: Video) -> FileFacts:
    return FileFacts(video.id, float(video.duration or 0.0), int(video.width or 0), int(video.height or 0),
                     int(video.size or 0))


def copy_descriptors(sessions: sessionmaker) -> list[Descriptors]:
    """Every indexed video's copy descriptors of the current method, in id order."""
    with sessions() as session:
        rows = session.execute(select(Video, CopyDescriptors).join(CopyDescriptors)
                               .where(Video.status == "indexed", CopyDescriptors.method == HASH_ID)
                               .order_by(Video.id))
        return [from_row(row, video) for video, row in rows]


def copies_pending(sessions: sessionmaker) -> list[int]:
    """Videos whose descriptors were not compared with the archive yet."""
    with sessions() as session:
        return list(session.scalars(select(CopyDescriptors.video_id).where(
            CopyDescriptors.method == HASH_ID, CopyDescriptors.compared.is_(False))))


def copy_matches(sessions: sessionmaker) -> list[CopiedSpan]:
    """Every kept copy match between indexed videos."""
    with sessions() as session:
        return [CopiedSpan(m.video_id, m.other_id, m.start, m.end, m.other_start, m.other_end, m.score,
                           m.evidence, m.change or "", m.witness or "picture") for m in session.scalars(select(CopyMatch).order_by(CopyMatch.id))]


def videos_without_copies(sessions: sessionmaker) -> list[int]:
    """Indexed videos with no copy descriptors of the current method (indexed before they were
    kept, or with ``copy_rate`` 0), or whose sound was not taken with them (indexed before it was)."""
    with sessions() as session:
        return list(session.scalars(
            select(Video.id).outerjoin(CopyDescriptors).where(
                Video.status == "indexed", or_(CopyDescriptors.method.is_(None), CopyDescriptors.method != HASH_ID,
                                               CopyDescriptors.sound_times.is_(None)))
            .order_by(Video.id)))
