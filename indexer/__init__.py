"""Turning files into segments and vectors: probe, decode, segment, transcribe, embed, write."""
