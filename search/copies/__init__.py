"""Copies: the same footage twice in the archive (re-encodes, crops, trims, excerpts).

``hashing`` turns frames into 64-bit perceptual hashes, ``align`` finds which seconds of one
video match which seconds of another, ``groups`` makes whole-file duplicate groups of them.
"""
