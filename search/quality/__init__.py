"""Measuring search quality: labelled query sets and the metrics the field reports.

Kept apart from the retrieval core so that scoring never changes what a search returns, and so
that published numbers (MSR-VTT, Charades-STA, ActivityNet Captions, QVHighlights) can be
compared with vidsearch's on the definitions those papers use.
"""
