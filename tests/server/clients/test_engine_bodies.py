"""The bodies search engines send to a rerank service, replayed over HTTP against `rerank serve`,
and the responses read the way those engines read them. Shapes from the engines' sources:

- Elasticsearch `hugging_face` rerank service (x-pack inference, HuggingFaceRerankRequestEntity):
  POST {"texts": [...], "query": ..., "return_text"?: bool, "top_n"?: int} to the configured URL
  (TEI's /rerank), Content-Type application/json, Authorization "Bearer KEY". Its parser
  (HuggingFaceRerankResponseEntity) wants a top-level array of objects whose fields are only
  index, score or relevance_score, text, document (any other field is an error), reads the score as
  a float, sorts by it and keeps the request's top_n.
- Elasticsearch `custom` service, rerank task: a user-written body template where ${query} and
  ${input} become JSON values; the response is read with json_parser paths, e.g.
  relevance_score "$.results[*].relevance_score", reranked_index "$.results[*].index"
  (RerankResponseParser: equal-length lists). Two templates: the Jina on-prem example of the
  Elasticsearch docs (/v1/rerank, no key) and Elasticsearch's predefined Cohere rerank schema
  (/v2/rerank, header "bearer ${api_key}" in lower case, top_n and return_documents).
- OpenSearch ml-commons Cohere rerank connector (blueprint + connector.pre_process.cohere.rerank +
  connector.post_process.cohere.rerank): the pre-process sets top_n to the number of documents; the
  body is { "documents": ${parameters.documents}, "query": "${parameters.query}", "model": ...,
  "top_n": ... } to /v1/rerank; the post-process takes "$.results", puts each relevance_score at
  position `index` of an array as long as the results, and hands that array back in input order.
"""
import json
import urllib.error
import urllib.request

import pytest

from expect import DOCS, QUERY, assert_close, check_ranking, library_logits, sigmoid


def post(server, path, body, headers=None):
    """POSTs `body` (text, exactly as the engine would send it); returns (status, parsed JSON)."""
    request = urllib.request.Request(server.url + path, data=body.encode("utf-8"), method="POST",
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def json_headers(key, scheme="Bearer"):
    return {"Content-Type": "application/json", "Authorization": f"{scheme} {key}"}


# --- Elasticsearch hugging_face rerank ------------------------------------------------------------

HF_FIELDS = {"index", "score", "relevance_score", "text", "document"}


def es_hugging_face_parse(body, top_n):
    """HuggingFaceRerankResponseEntity.fromResponse, in Python."""
    assert isinstance(body, list), "the parser wants a top-level array"
    docs = []
    for item in body:
        assert set(item) <= HF_FIELDS, f"unknown field(s) {set(item) - HF_FIELDS}: a parse error"
        score = item.get("score", item.get("relevance_score"))
        text = item.get("text", (item.get("document") or {}).get("text"))
        docs.append((item["index"], score, text))
    docs.sort(key=lambda d: -d[1])
    return docs[:top_n] if top_n is not None else docs


@pytest.mark.parametrize("return_text,top_n", [(None, None), (True, 3), (False, 2)])
def test_elasticsearch_hugging_face(server, return_text, top_n):
    body = {"texts": DOCS, "query": QUERY}  # the entity's field order
    if return_text is not None:
        body["return_text"] = return_text
    if top_n is not None:
        body["top_n"] = top_n
    status, response = post(server, "/rerank", json.dumps(body), json_headers(server.key))
    assert status == 200, response
    docs = es_hugging_face_parse(response, top_n)
    check_ranking([(i, s) for i, s, _ in docs], library_logits(QUERY, DOCS), top_n=top_n)
    for index, _, text in docs:
        assert text == (DOCS[index] if return_text else None)


def test_tei_raw_scores_are_the_library_logits(server):
    body = json.dumps({"query": QUERY, "texts": DOCS, "raw_scores": True})
    status, response = post(server, "/rerank", body, json_headers(server.key))
    assert status == 200, response
    check_ranking([(r["index"], r["score"]) for r in response], library_logits(QUERY, DOCS),
                  scale=lambda x: x)


# --- Elasticsearch custom service -----------------------------------------------------------------

def render(template, values):
    """${name} placeholders replaced by JSON values, as the custom service substitutes them."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", json.dumps(value))
    assert "${" not in template, f"unfilled placeholder in {template}"
    return template


def json_path_list(body, path):
    """The json_parser paths used here: $.a[*].b (optionally $.a[*].b.c) -> a list."""
    head, tail = path.split("[*].")
    assert head.startswith("$.")
    items = body
    for key in head[2:].split("."):
        items = items[key]
    out = []
    for item in items:
        for key in tail.split("."):
            item = item[key]
        out.append(item)
    return out


def es_custom_parse(body, score_path, index_path, text_path=None):
    """RerankResponseParser.transform: lists of scores, indices (and texts) of equal length."""
    scores = json_path_list(body, score_path)
    indices = json_path_list(body, index_path)
    assert len(indices) == len(scores)
    assert all(isinstance(s, (int, float)) for s in scores)
    texts = json_path_list(body, text_path) if text_path else [None] * len(scores)
    assert len(texts) == len(scores)
    return list(zip(indices, scores, texts))


JINA_TEMPLATE = """
    {
      "model": "jina-reranker-v2-base-multilingual",
      "query": ${query},
      "documents": ${input}
    }
    """

COHERE_V2_TEMPLATE = ('{"documents": ${input}, "query": ${query}, "model": ${model_id}, '
                      '"top_n": ${top_n}, "return_documents": ${return_documents}}')


def test_elasticsearch_custom_jina_example(server):
    body = render(JINA_TEMPLATE, {"query": QUERY, "input": DOCS})
    status, response = post(server, "/v1/rerank", body, json_headers(server.key))
    assert status == 200, response
    docs = es_custom_parse(response, "$.results[*].relevance_score", "$.results[*].index")
    check_ranking([(i, s) for i, s, _ in docs], library_logits(QUERY, DOCS))


def test_elasticsearch_custom_cohere_v2_schema(server):
    body = render(COHERE_V2_TEMPLATE, {"input": DOCS, "query": QUERY, "model_id": "rerank-v3.5",
                                       "top_n": 4, "return_documents": True})
    # The predefined schema writes the scheme in lower case; auth schemes are case-insensitive.
    status, response = post(server, "/v2/rerank", body, json_headers(server.key, scheme="bearer"))
    assert status == 200, response
    docs = es_custom_parse(response, "$.results[*].relevance_score", "$.results[*].index",
                           "$.results[*].document.text")
    check_ranking([(i, s) for i, s, _ in docs], library_logits(QUERY, DOCS), top_n=4)
    for index, _, text in docs:
        assert text == DOCS[index]


# --- OpenSearch ml-commons Cohere rerank connector ------------------------------------------------

OPENSEARCH_BODY = ('{ "documents": ${parameters.documents}, "query": "${parameters.query}", '
                   '"model": "${parameters.model}", "top_n": ${parameters.top_n} }')


def opensearch_request(query, documents):
    """The connector's request_body after connector.pre_process.cohere.rerank: string parameters
    are JSON-escaped and placed inside the template's quotes; lists and numbers as JSON."""
    parameters = {"documents": json.dumps(documents), "query": json.dumps(query)[1:-1],
                  "model": "rerank-english-v3.0", "top_n": str(len(documents))}
    body = OPENSEARCH_BODY
    for name, value in parameters.items():
        body = body.replace("${parameters." + name + "}", value)
    return body


def opensearch_post_process(body):
    """connector.post_process.cohere.rerank over "$.results": scores back in input order."""
    results = body["results"]
    assert results and {"index", "relevance_score"} <= set(results[0])
    scores = [None] * len(results)
    for r in results:
        scores[r["index"]] = float(r["relevance_score"])  # an index >= len(results) would throw
    assert None not in scores, "a document is missing from the results"
    return scores


def test_opensearch_cohere_connector(server):
    body = opensearch_request(QUERY, DOCS)
    status, response = post(server, "/v1/rerank", body, json_headers(server.key))
    assert status == 200, response
    scores = opensearch_post_process(response)
    logits = library_logits(QUERY, DOCS)
    assert len(scores) == len(DOCS)
    for i, score in enumerate(scores):
        assert_close(score, sigmoid(logits[i]), f"document {i}")


def test_opensearch_query_with_quotes_and_newlines(server):
    query = 'the "red planet"\nand its dust'
    status, response = post(server, "/v1/rerank", opensearch_request(query, DOCS[:3]),
                            json_headers(server.key))
    assert status == 200, response
    logits = library_logits(query, DOCS[:3])
    for i, score in enumerate(opensearch_post_process(response)):
        assert_close(score, sigmoid(logits[i]), f"document {i}")


def test_engine_without_the_key_gets_the_dialects_401(server):
    status, response = post(server, "/rerank", json.dumps({"query": QUERY, "texts": DOCS}),
                            {"Content-Type": "application/json"})
    assert status == 401
    assert set(response) == {"error", "error_type"} and "API key" in response["error"]
