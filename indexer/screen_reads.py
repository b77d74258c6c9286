"""Which decoded frames OCR reads: where on-screen text may have changed, as frames go by."""
from __future__ import annotations

from .frames import SeenFrame, difference, scaled_size
from .probe import upright
from .shots import MIN_SHOT


class ScreenReader:
    """Hands ``on_screen(image, at)`` the sampled frames whose text may be new (``ScreenSchedule``),
    upright, at ``options.screen_size`` (short side); ``on_screen`` says whether it found text.
    ``options``: the decode options (``screen_size``, ``screen_interval``, ``dedup_threshold``)."""

    def __init__(self, on_screen, options, stats: dict):
        self.on_screen, self.options, self.stats = on_screen, options, stats
        self.schedule: ScreenSchedule | None = None
        self._scaled = None

    def see(self, seen: SeenFrame) -> None:
        if seen.first:
            self.schedule = ScreenSchedule(seen.at, self.options)
        else:
            self.schedule.see(seen.at, seen.jump)
        if not seen.sampled or not self.schedule.due(seen.thumb, seen.at, seen.kept):
            return
        frame = seen.frame
        self._scaled = self._scaled or scaled_size(frame.width, frame.height, self.options.screen_size)
        big = frame.reformat(width=self._scaled[0], height=self._scaled[1], format="rgb24").to_ndarray()
        self.schedule.read(seen.thumb, seen.at, self.on_screen(upright(big, seen.rotation), seen.at))
        self.stats["screen_frames"] = self.stats.get("screen_frames", 0) + 1

    def finish(self) -> None:
        pass


class ScreenSchedule:
    """Which samples OCR reads (``_text_may_be_new`` says when), with what it needs to know of
    the frames between them: whether a new shot began since the last read. A new shot is a jump
    in the picture after a calm stretch (``MIN_SHOT``), or a calm stretch after jumps that went
    on for longer: fast action that settled into a new picture. In fast action every frame
    jumps; counting each as a cut would read it every ``screen_interval`` instead of with the
    back-off of a shot without text. Kept samples are read; once a shot settled, any sample is
    (its first frame may have been kept while the action was still going, and the rest repeat it)."""

    def __init__(self, start: float, options):
        self.options = options
        self.last_thumb, self.last_read, self.misses = None, -1e9, 0  # reads in a row that found nothing
        self.cut = self.settled = False  # since the last read: a new shot; one that settled
        self.run_start = self.last_jump = start  # the first frame starts a shot
        self.settling = False  # jumps have gone on for longer than MIN_SHOT

    def see(self, at: float, jump: bool) -> None:
        """A decoded frame (after the first); ``jump``: it is a cut from the one before."""
        calm = at - self.last_jump >= MIN_SHOT
        if jump:
            self.last_jump = at
            if calm:
                self.run_start, self.cut = at, True
            self.settling = self.settling or at - self.run_start >= MIN_SHOT
        elif self.settling and calm:
            self.settling, self.cut, self.settled = False, True, True

    def due(self, thumb, at: float, kept: bool) -> bool:
        return (kept or self.settled) and _text_may_be_new(thumb, self.last_thumb, at - self.last_read,
                                                           self.misses, self.cut, self.options)

    def read(self, thumb, at: float, found: bool) -> None:
        """The sample at ``at`` was read; ``found``: it held text."""
        self.last_thumb, self.last_read, self.misses = thumb, at, 0 if found else self.misses + 1
        self.cut = self.settled = False


def _text_may_be_new(thumb, last_read_thumb, since: float, misses: int, cut: bool, options) -> bool:
    """Whether OCR should read this sample. Text can only have changed where the picture
    did, so a sample like the last one read is skipped; at most one frame per ``screen_interval``
    is read. After a cut (``cut``: one since the last read, between consecutive frames: a slide
    change, a new shot) that is all; within a shot, a read that found no text makes the next wait
    4 times as long, and each further one doubles it (up to 16 times): moving footage without
    text is read about once a shot, and the next shot is read at once. A zoom or a pan is one
    shot however far it moves from the frame read last. (Text that appears inside a textless
    moving shot, a lower third say, is read within 8 s of the shot's first read, within 32 s in
    a long one.)"""
    if last_read_thumb is None:
        return True
    if difference(thumb, last_read_thumb).max() < max(options.dedup_threshold, 0):
        return False
    return since + 1e-6 >= options.screen_interval * (1 if cut or not misses else 2 ** min(misses + 1, 4))
