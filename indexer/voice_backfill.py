"""Voices of videos indexed before they were told apart (``vidsearch index --only voices``).

Only the audio is decoded, in a child process as always (a damaged file fails alone); nothing is
transcribed or embedded. A video's speakers are replaced whole and placed among the archive's
voices, then voices are linked to the people seen while they speak.
"""
from __future__ import annotations

from core.library import Library
from core.models.vad import voiced_spans
from core.models.voices import load_voice_encoder
from core.settings import Settings
from core.voices import link_people

from .backfill import indexed_under
from .decode import decode_audio
from .isolate import IsolatedFailure, run_isolated
from .report import FileOutcome
from .voices import diarize


def add_voices(library: Library, settings: Settings, paths: list, force: bool = False) -> list[FileOutcome]:
    """Speakers for the indexed videos under ``paths`` whose voices were not told apart (all with
    ``force``)."""
    encoder = load_voice_encoder(settings.onnx_cache_dir)
    outcomes: list[FileOutcome] = []
    for path, video in indexed_under(library, paths, outcomes):
        if video.voice_model == encoder.model_id and not force:
            outcomes.append(FileOutcome(str(path), "skipped", reason="voices already told apart"))
            continue
        try:
            audio = run_isolated(decode_audio, str(path), timeout=settings.file_timeout) if video.has_audio else None
        except IsolatedFailure as exc:
            outcomes.append(FileOutcome(str(path), "failed", "decode", str(exc)))
            continue
        heard = diarize(audio, voiced_spans(audio), encoder).heard()
        library.replace_speakers(video.id, heard, encoder.model_id)
        outcomes.append(FileOutcome(str(path), "indexed", reason=f"{len(heard)} speaker(s)", video_id=video.id))
    link_people(library)
    return outcomes
