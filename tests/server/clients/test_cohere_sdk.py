"""The Cohere Python SDK (`cohere`, pinned in requirements.txt) against `rerank serve`: its v1
`Client` and v2 `ClientV2` with base_url at the server, the API key sent as a Bearer token.

The SDK builds its response objects leniently (missing fields become None), so each test also
validates the raw body against the SDK's own pydantic model, which fails on a missing or mistyped
required field.
"""
import cohere
import pytest
from cohere.errors import UnauthorizedError, UnprocessableEntityError

from expect import DOCS, QUERY, check_ranking, library_logits

OBJECTS = [
    {"title": "Rust-coloured dust", "text": DOCS[0], "year": 2021},
    {"title": "Jupiter's storm", "text": DOCS[1], "year": 2019},
    {"title": "Martian sunsets", "text": DOCS[2], "year": 2015},
]


@pytest.fixture(scope="module")
def v1(server):
    return cohere.Client(api_key=server.key, base_url=server.url, timeout=60)


@pytest.fixture(scope="module")
def v2(server):
    return cohere.ClientV2(api_key=server.key, base_url=server.url, timeout=60)


def pairs(response):
    return [(r.index, r.relevance_score) for r in response.results]


def test_v1_string_documents(v1):
    raw = v1.with_raw_response.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS)
    response = raw.data
    assert raw.status_code == 200
    assert isinstance(response, cohere.RerankResponse)
    check_ranking(pairs(response), library_logits(QUERY, DOCS))
    assert all(r.document is None for r in response.results)
    assert isinstance(response.id, str) and response.id
    assert response.meta.api_version.version == "1"
    assert response.meta.billed_units.search_units == 1
    cohere.RerankResponse.model_validate(raw.response.json())


def test_v1_top_n_and_return_documents(v1):
    response = v1.rerank(query=QUERY, documents=DOCS, top_n=2, return_documents=True)
    check_ranking(pairs(response), library_logits(QUERY, DOCS), top_n=2)
    for r in response.results:
        assert r.document.text == DOCS[r.index]


def test_v1_object_documents_ranked_on_text(v1):
    raw = v1.with_raw_response.rerank(query=QUERY, documents=OBJECTS, return_documents=True)
    check_ranking(pairs(raw.data), library_logits(QUERY, [o["text"] for o in OBJECTS]))
    body = raw.response.json()
    cohere.RerankResponse.model_validate(body)
    for item, r in zip(body["results"], raw.data.results):
        # Each document comes back as it was sent, every field included.
        assert item["document"] == OBJECTS[r.index]
        assert r.document.text == OBJECTS[r.index]["text"]


def test_v1_rank_fields(v1):
    # rank_fields: the named fields as "field: value" lines, in the order given (docs/server.md).
    fields = ["title", "text"]
    response = v1.rerank(query=QUERY, documents=OBJECTS, rank_fields=fields, top_n=2,
                         return_documents=True)
    texts = ["\n".join(f"{f}: {o[f]}" for f in fields) for o in OBJECTS]
    check_ranking(pairs(response), library_logits(QUERY, texts), top_n=2)
    for r in response.results:
        assert r.document.text == OBJECTS[r.index]["text"]
        assert r.document.title == OBJECTS[r.index]["title"]  # an extra field the SDK keeps


def test_v2_string_documents(v2):
    raw = v2.with_raw_response.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS)
    response = raw.data
    assert isinstance(response, cohere.V2RerankResponse)
    check_ranking(pairs(response), library_logits(QUERY, DOCS))
    assert isinstance(response.id, str) and response.id
    assert response.meta.api_version.version == "2"
    cohere.V2RerankResponse.model_validate(raw.response.json())


def test_v2_top_n(v2):
    response = v2.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS[:4], top_n=3)
    check_ranking(pairs(response), library_logits(QUERY, DOCS[:4]), top_n=3)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_wrong_api_key_is_unauthorized(server, version):
    maker = cohere.Client if version == "v1" else cohere.ClientV2
    client = maker(api_key=server.key + "-wrong", base_url=server.url, timeout=60)
    with pytest.raises(UnauthorizedError) as error:
        client.rerank(model="m", query=QUERY, documents=DOCS)
    assert error.value.status_code == 401
    assert error.value.body["error"]["type"] == "authentication_error"
    assert "API key" in error.value.body["message"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_too_many_documents_is_unprocessable(server, v1, v2, version):
    client = v1 if version == "v1" else v2
    documents = [f"document {i}" for i in range(server.max_documents + 1)]
    with pytest.raises(UnprocessableEntityError) as error:
        client.rerank(model="m", query=QUERY, documents=documents)
    assert error.value.status_code == 422
    assert error.value.body["error"]["type"] == "invalid_request_error"
    assert error.value.body["message"] == (
        f"{server.max_documents + 1} documents; the limit is {server.max_documents}")


def test_empty_query_is_unprocessable(v1):
    with pytest.raises(UnprocessableEntityError) as error:
        v1.rerank(query="", documents=DOCS)
    assert error.value.body["message"] == "the query is empty"
