"""Copies: the same footage twice in the archive (re-encodes, crops, trims, excerpts).

``hashing`` turns frames into 64-bit perceptual hashes, ``candidates`` finds which videos may
share footage, ``align`` which seconds of one match which seconds of another, ``groups`` and
``finder`` tell whole-file duplicates from copied spans, ``archive`` keeps the matches up to date
as videos are indexed, ``stored`` and ``report`` are the catalog's and the user's forms.
"""
