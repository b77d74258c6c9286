"""Query-set loaders on samples written the way each public dataset ships.

The samples copy the real files' shape (header, separators, leading spaces in ActivityNet
sentences, QVHighlights' extra keys), because that is what users will point the loader at.
"""
from __future__ import annotations

import pytest

from search.quality.querysets import FORMATS, LabelledQuery, QuerySetError, load_queries

JSONL = """\
# lecture archive, labelled by hand
{"query": "where they talk about the budget", "video": "lectures/finance-03.mp4", "start": 312.0, "end": 341.5, "kind": "paraphrase"}
{"query": "entropy always increases", "video": "thermo-1.mp4", "start": 60, "end": 75, "kind": "exact"}

{"query": "a dog catching a frisbee", "video": "video7020", "note": "extra keys are ignored"}
"""

MSRVTT = """\
key,vid_key,video_id,sentence
ret0,msr7579,video7579,a girl wearing red top and black trousers is putting a sweater on a dog
ret1,msr7725,video7725,young people sit around the edges of a room clapping and raising their arms
ret2,msr9258,video9258,"a man, a woman and a dog walk on the beach"
"""

CHARADES = """\
3MSZA 24.3 30.4##person turn a light on.
3MSZA 24.3 30.4##person flipped the light switch near the door.
3MSZA 30.4 36.0##person begins sweeping the floor.
"""

ACTIVITYNET = """\
{"v_QOlSCBRmfWY": {"duration": 82.73, "timestamps": [[0.83, 19.86], [17.37, 60.81], [56.26, 79.42]],
  "sentences": ["A young woman is seen standing in a room and leads into her dancing.",
                " The girl dances around the room while the camera captures her movements.",
                " She continues dancing around the room and ends by laying on the floor."]},
 "v_ehGHCYKzyZ8": {"duration": 61.72, "timestamps": [[0, 19.75]],
  "sentences": ["The video begins with a man in a suit standing on a stage."]}}
"""

QVHIGHLIGHTS = """\
{"qid": 2579, "query": "A girl and her mother cooked while talking with each other on facetime.", "duration": 150, "vid": "NUan7xN4pDw_360.0_510.0", "relevant_clip_ids": [13, 14, 15, 16, 17], "saliency_scores": [[1, 4, 1], [4, 4, 1], [4, 4, 1], [4, 4, 1], [4, 4, 1]], "relevant_windows": [[26, 36]]}
{"qid": 5071, "query": "Man in baseball cap eats before doing his interview.", "duration": 150, "vid": "j7rJstUseKg_360.0_510.0", "relevant_clip_ids": [0, 1, 48, 49], "saliency_scores": [[2, 2, 2], [2, 2, 2], [3, 3, 3], [3, 3, 3]], "relevant_windows": [[0, 4], [96, 100]]}
"""


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_jsonl(tmp_path):
    qs = load_queries(write(tmp_path, "mine.jsonl", JSONL))
    assert qs.format == "jsonl" and qs.has_spans
    assert qs.queries == [
        LabelledQuery("where they talk about the budget", "lectures/finance-03.mp4",
                      ((312.0, 341.5),), "paraphrase", 2),
        LabelledQuery("entropy always increases", "thermo-1.mp4", ((60.0, 75.0),), "exact", 3),
        LabelledQuery("a dog catching a frisbee", "video7020", (), None, 5),
    ]


def test_jsonl_language_gives_each_language_its_rows(tmp_path):
    lines = ('{"query": "a volcano erupted", "video": "v.mp4", "kind": "english", "language": "es"}\n'
             '{"query": "volcán", "video": "v.mp4", "language": "es"}\n')
    qs = load_queries(write(tmp_path, "langs.jsonl", lines))
    assert [q.kind for q in qs.queries] == ["es english", "es"]


def test_msrvtt(tmp_path):
    qs = load_queries(write(tmp_path, "MSRVTT_JSFUSION_test.csv", MSRVTT))
    assert qs.format == "msrvtt" and not qs.has_spans
    assert [(q.video, q.text, q.spans, q.line) for q in qs.queries] == [
        ("video7579", "a girl wearing red top and black trousers is putting a sweater on a dog",
         (), 2),
        ("video7725", "young people sit around the edges of a room clapping and raising their arms",
         (), 3),
        ("video9258", "a man, a woman and a dog walk on the beach", (), 4),
    ]


def test_charades(tmp_path):
    qs = load_queries(write(tmp_path, "charades_sta_test.txt", CHARADES))
    assert qs.format == "charades"
    assert qs.queries == [
        LabelledQuery("person turn a light on.", "3MSZA", ((24.3, 30.4),), None, 1),
        LabelledQuery("person flipped the light switch near the door.", "3MSZA", ((24.3, 30.4),),
                      None, 2),
        LabelledQuery("person begins sweeping the floor.", "3MSZA", ((30.4, 36.0),), None, 3),
    ]


def test_activitynet_one_query_per_sentence_numbered_by_entry(tmp_path):
    qs = load_queries(write(tmp_path, "val_1.json", ACTIVITYNET))
    assert qs.format == "activitynet"
    assert [(q.video, q.spans, q.line) for q in qs.queries] == [
        ("v_QOlSCBRmfWY", ((0.83, 19.86),), 1),
        ("v_QOlSCBRmfWY", ((17.37, 60.81),), 1),
        ("v_QOlSCBRmfWY", ((56.26, 79.42),), 1),
        ("v_ehGHCYKzyZ8", ((0.0, 19.75),), 2),
    ]
    # ActivityNet's sentences after the first start with a space
    assert qs.queries[1].text == "The girl dances around the room while the camera captures her movements."


def test_qvhighlights_keeps_every_window(tmp_path):
    qs = load_queries(write(tmp_path, "highlight_val_release.jsonl", QVHIGHLIGHTS))
    assert qs.format == "qvhighlights"
    assert qs.queries == [
        LabelledQuery("A girl and her mother cooked while talking with each other on facetime.",
                      "NUan7xN4pDw_360.0_510.0", ((26.0, 36.0),), None, 1),
        LabelledQuery("Man in baseball cap eats before doing his interview.",
                      "j7rJstUseKg_360.0_510.0", ((0.0, 4.0), (96.0, 100.0)), None, 2),
    ]


def test_explicit_format_overrides_the_suffix(tmp_path):
    qs = load_queries(write(tmp_path, "queries.data", CHARADES), format="charades")
    assert qs.format == "charades" and len(qs.queries) == 3


def test_a_byte_order_mark_is_tolerated(tmp_path):
    qs = load_queries(write(tmp_path, "excel.csv", MSRVTT, encoding="utf-8-sig"))
    assert qs.queries[0].video == "video7579" and qs.queries[0].line == 2


def test_a_quoted_sentence_over_two_lines_is_numbered_by_its_first(tmp_path):
    qs = load_queries(write(tmp_path, "t.csv", MSRVTT + 'ret3,msr1,video1,"two\nlines"\n'
                                                        "ret4,msr2,video2,one line\n"))
    assert [(q.text, q.line) for q in qs.queries[3:]] == [("two\nlines", 5), ("one line", 7)]
    text = MSRVTT + 'ret3,msr1,video1,"two\nlines",one too many\n'
    with pytest.raises(QuerySetError, match=r"t2.csv:5: 5 columns, the header has 4"):
        load_queries(write(tmp_path, "t2.csv", text))


# (file name, good content, bad line appended, line number of the bad line, words in the message)
BROKEN = [
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4"', 6, "not valid JSON"),
    ("q.jsonl", JSONL, '{"query": "x"}', 6, '"video" is missing'),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "start": 3}', 6, "give both or neither"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "start": "ten", "end": 20}', 6,
     "'ten' is not a number"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "start": 20, "end": 10}', 6,
     "end 10 is before start 20"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "start": -1, "end": 10}', 6, ">= 0"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "start": true, "end": 10}', 6,
     "True is not a number"),
    ("q.jsonl", JSONL, '["x", "a.mp4"]', 6, "not an object"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "kind": "all"}', 6, "reserved"),
    ("q.jsonl", JSONL, '{"query": "x", "video": "a.mp4", "language": "Spanish"}', 6, "not a language code"),
    ("t.csv", MSRVTT, "ret3,msr7020,video7020", 5, "3 columns, the header has 4"),
    ("t.csv", MSRVTT, "ret3,msr7020,,a man sings", 5, '"video_id" is missing'),
    ("c.txt", CHARADES, "3MSZA 24.3 30.4 person turns on the light.", 4, 'no "##"'),
    ("c.txt", CHARADES, "3MSZA 24.3##person turns on the light.", 4, "2 fields"),
    ("c.txt", CHARADES, "3MSZA 24.3 3O.4##person turns on the light.", 4, "'3O.4' is not a number"),
    ("c.txt", CHARADES, "3MSZA 30.4 24.3##person turns on the light.", 4, "before start"),
    ("c.txt", CHARADES, "3MSZA -1 24.3##person turns on the light.", 4, ">= 0"),
    ("c.txt", CHARADES, "3MSZA nan 24.3##person turns on the light.", 4, "finite"),
    ("q.jsonl", QVHIGHLIGHTS, '{"qid": 1, "query": "x", "relevant_windows": [[0, 2]]}', 3,
     '"vid" is missing'),
    ("q.jsonl", QVHIGHLIGHTS, '{"qid": 1, "query": "x", "vid": "a", "relevant_windows": []}', 3,
     "non-empty list"),
    ("q.jsonl", QVHIGHLIGHTS, '{"qid": 1, "query": "x", "vid": "a", "relevant_windows": [[4, 2]]}',
     3, "before start"),
    ("q.jsonl", QVHIGHLIGHTS, '{"qid": 1, "query": "x", "vid": "a", "relevant_windows": [[4]]}', 3,
     "not a [start, end] pair"),
]


@pytest.mark.parametrize("name, good, bad, line, words", BROKEN)
def test_a_broken_line_names_the_file_and_line(tmp_path, name, good, bad, line, words):
    path = write(tmp_path, name, good + bad + "\n")
    with pytest.raises(QuerySetError) as err:
        load_queries(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert words in str(err.value)
    assert err.value.line == line and err.value.path == path


@pytest.mark.parametrize("entry, problem", [
    ('{"duration": 9.0, "timestamps": [[0, 4]], "sentences": ["a", "b"]}',
     "1 timestamps but 2 sentences"),
    ('{"duration": 9.0, "timestamps": [[0, "4s"]], "sentences": ["a"]}', "'4s' is not a number"),
    ('{"duration": 9.0, "timestamps": [[5, 4]], "sentences": ["a"]}', "end 4 is before start 5"),
    ('{"duration": 9.0, "sentences": ["a"]}', "should both be lists"),
    ('{"duration": 9.0, "timestamps": [[0, 4]], "sentences": [""]}', "sentence 1"),
])
def test_a_broken_activitynet_entry_names_its_number(tmp_path, entry, problem):
    text = ACTIVITYNET.rstrip().removesuffix("}") + f', "v_broken": {entry}}}'
    path = write(tmp_path, "val_1.json", text)
    with pytest.raises(QuerySetError) as err:
        load_queries(path)
    assert str(err.value).startswith(f"{path}:3: entry 'v_broken'")
    assert problem in str(err.value)


def test_broken_json_names_the_line_of_the_syntax_error(tmp_path):
    path = write(tmp_path, "val_1.json", ACTIVITYNET.replace('[[0, 19.75]]', '[[0, 19.75]'))
    with pytest.raises(QuerySetError, match=rf"^{path}:6: not valid JSON"):
        load_queries(path)


@pytest.mark.parametrize("name, text, problem", [
    ("q.jsonl", "# nothing labelled yet\n\n", "holds no queries"),
    ("t.csv", "key,vid_key,video_id,sentence\n", "holds no queries"),
    ("val_1.json", "[]", "top level is a JSON list"),
    ("q.tsv", CHARADES, "cannot tell the format from the suffix '.tsv'"),
    ("q.jsonl", '{"id": 1, "caption": "x"}\n', "cannot tell the format from the keys"),
])
def test_whole_file_problems(tmp_path, name, text, problem):
    path = write(tmp_path, name, text)
    with pytest.raises(QuerySetError) as err:
        load_queries(path)
    assert str(err.value).startswith(str(path)) and problem in str(err.value)


def test_undetectable_files_and_unknown_formats_name_the_formats(tmp_path):
    with pytest.raises(QuerySetError, match=", ".join(FORMATS)):
        load_queries(write(tmp_path, "q.tsv", CHARADES))
    with pytest.raises(QuerySetError, match="unknown query-set format 'didemo'.*" + FORMATS[-1]):
        load_queries(write(tmp_path, "q.json", ACTIVITYNET), format="didemo")


def test_a_missing_file_or_bad_bytes(tmp_path):
    with pytest.raises(QuerySetError, match="cannot read it"):
        load_queries(tmp_path / "absent.jsonl")
    path = tmp_path / "latin1.txt"
    path.write_bytes(CHARADES.encode() + "3MSZA 1 2##caf\xe9 scene\n".encode("latin-1"))
    with pytest.raises(QuerySetError, match=rf"^{path}:4: is not UTF-8"):
        load_queries(path)
