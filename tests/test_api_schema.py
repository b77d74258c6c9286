"""Schemathesis over the OpenAPI schema of a real server: generated requests, 0 server errors.

Every operation in ``/openapi.json`` gets property-based requests (valid and malformed) against
a real uvicorn server over an indexed corpus. Any 5xx fails; so does an answer whose status or
body the schema does not describe.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings as hyp_settings

from api.app import create_app
from api.serve import ServerThread
from indexer.pipeline import Indexer
from core.library import Library
from core.settings import Settings


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, corpus, tiny_clip, encoders, asr):
    settings = Settings(data_dir=tmp_path_factory.mktemp("schema-data"), upload_limit_mb=1, **tiny_clip)
    Indexer(Library(settings), encoders, settings, progress=False).index([corpus])
    with ServerThread(create_app(settings, encoders=encoders, asr=asr)) as url:
        yield url, schemathesis.openapi.from_url(url + "/openapi.json")


def test_no_server_errors_and_answers_match_the_schema(api_schema):
    url, api_schema = api_schema
    """Each operation in turn, by hypothesis; the failures of all of them are reported together."""
    from hypothesis import given
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(GenerationMode.POSITIVE)
               | operation.as_strategy(GenerationMode.NEGATIVE))
        # Derandomized: the same examples every run, so CI is repeatable; vary the seed by hand
        # (pytest --hypothesis-seed=N with derandomize off) when hunting for new failures.
        @hyp_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None, derandomize=True)
        def run(case):
            case.call_and_validate(checks=checks, timeout=60)

        try:
            run()
        except Exception as exc:  # keep going: one report for every operation that fails
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 12
    assert not failures, "\n\n".join(failures)
    # The generated requests did reach the routes, with good and bad input alike.
    import httpx

    metrics = httpx.get(url + "/metrics").text
    for series in ('route="/api/search",status="200"', 'route="/api/search",status="422"',
                   'route="/api/similar",status="4', 'route="/api/videos/{video_id}",status="200"'):
        assert series in metrics, series
