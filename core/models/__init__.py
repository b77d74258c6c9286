"""Every model of vidsearch, in one home, each in its own module on one base (``base``):

* ``clip``: CLIP's image and text towers (open_clip), the shared space of frames and words;
* ``sentence``: the sentence-transformer of the speech space;
* ``whisper``: speech to timestamped words (faster-whisper, openai-whisper), with ``vad``
  (Silero, shipped by faster-whisper) for where the voice is;
* ``onnx_runtime``: text towers exported to ONNX Runtime, checked once at export;
* ``ocr``: text on screen (PP-OCR on ONNX Runtime), with ``ocr_spacing`` for the spaces it drops.

A new model gets a module here, loads lazily through ``base.Lazy``, raises
``base.ModelUnavailable`` when it cannot load and takes its device, precision and runtime from
``base``. Nothing here is imported by ``import core.models``: each module pulls in its own
heavy libraries only when used.
"""
