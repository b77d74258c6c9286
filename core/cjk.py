"""Text in scripts written without spaces (Chinese, Japanese, Korean), cut into what a full-text
index can find: the catalog stores a segment's character pairs when it is written, and keyword
search cuts a query the same way."""
from __future__ import annotations

import re

CJK_RUN = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+)")


def cjk_grams(*texts: str | None) -> str | None:
    """The overlapping character pairs of the Chinese, Japanese and Korean runs in ``texts``
    ("砸自己的脚" -> "砸自 自己 己的 的脚"; a lone character stays one), space-separated.

    These scripts are written without spaces, so a tokenizer sees a whole phrase as one word and
    a query for one word inside it finds nothing. Indexed as pairs (as Lucene's CJK analyzer
    does), a word of two or more characters is found wherever it is said, ranked by BM25 like
    any other word; ``query_words`` cuts a query the same way."""
    grams = []
    for text in texts:
        for run in CJK_RUN.findall(text or ""):
            grams += [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
    return " ".join(grams) or None


def is_cjk(word: str) -> bool:
    """Whether ``word`` is written in a script without spaces (Chinese, Japanese, Korean)."""
    return bool(CJK_RUN.fullmatch(word))
