"""Image models of vendors that are not OpenAI-compatible behind ``/v1/images/generations``,
through the OpenAI SDK (strict validation) against a live server: Google's Imagen
(``:predict``) and Gemini image models (``:generateContent``) as ``provider: gemini``, and
Stability AI's v2beta ``stable-image/generate`` (multipart; JSON or image bytes) as
``provider: stability``. Loopback upstreams speak each vendor's documented wire format and
refuse what it refuses; both output forms (``b64_json`` and ``url``) are checked against
the bytes the upstream made."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest

from tests.e2e.audio_helpers import ledger_entry
from tests.fakes.vendor_images import FakeGoogleImages, FakeStability
from tests.server import MASTER_KEY, LiveServer, sdk

IMAGEN, GEMINI, CORE, CORE_BYTES, SD3 = "imagen", "nano-banana", "sd-core", "sd-core-bytes", "sd-large"


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleImages]:
    fake = FakeGoogleImages()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stability() -> Iterator[FakeStability]:
    fake = FakeStability()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh(google: FakeGoogleImages, stability: FakeStability) -> None:
    google.reset()
    stability.reset()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, google: FakeGoogleImages,
         stability: FakeStability) -> Iterator[LiveServer]:
    goog = {"provider": "gemini", "task": "image", "base_url": google.url + "/v1beta", "api_key": "goog-key",
            "timeout": 10}
    stab = {"provider": "stability", "task": "image", "base_url": stability.url, "api_key": "sk-stability",
            "timeout": 10}
    models = [
        {"name": IMAGEN, "model": "imagen-4.0-generate-001", **goog},
        {"name": GEMINI, "model": "gemini-2.5-flash-image", "price": {"input_per_mtok": "0.30",
                                                                      "output_per_mtok": "30"}, **goog},
        {"name": CORE, "model": "core", "price": {"output_per_image": "0.03"}, **stab},  # 3 credits an image
        {"name": CORE_BYTES, "model": "core", "headers": {"accept": "image/*"}, **stab},
        {"name": SD3, "model": "sd3.5-large", **stab},
    ]
    server = LiveServer(tmp_path_factory.mktemp("vendor-images"), models)
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


def _b64(reply: openai.types.ImagesResponse) -> list[bytes]:
    return [base64.b64decode(d.b64_json or "") for d in reply.data]


# --- Google: Imagen (:predict) ---------------------------------------------------------------------

def test_imagen_generates_b64_images_through_predict(client: openai.OpenAI, google: FakeGoogleImages) -> None:
    reply = client.images.generate(model=IMAGEN, prompt="a lighthouse at dusk", n=2, size="1536x1024")
    heard = google.heard[-1]
    assert heard.path == "/v1beta/models/imagen-4.0-generate-001:predict"
    assert heard.headers["x-goog-api-key"] == "goog-key" and "authorization" not in heard.headers
    assert heard.json == {"instances": [{"prompt": "a lighthouse at dusk"}],
                          "parameters": {"sampleCount": 2, "includeRaiReason": True, "aspectRatio": "4:3"}}
    assert _b64(reply) == google.made and len(google.made) == 2 and google.made[0] != google.made[1]
    assert reply.output_format == "png"


def test_imagen_jpeg_as_a_url_served_here(client: openai.OpenAI, google: FakeGoogleImages, live: LiveServer) -> None:
    reply = client.images.generate(model=IMAGEN, prompt="a red barn", response_format="url", output_format="jpeg",
                                   output_compression=80, size="1024x1792")
    parameters = google.heard[-1].json["parameters"]
    assert parameters["outputOptions"] == {"mimeType": "image/jpeg", "compressionQuality": 80}
    assert parameters["aspectRatio"] == "9:16"
    url = reply.data[0].url
    assert url is not None and url.startswith(live.url + "/v1/images/files/")
    served = httpx.get(url)
    assert served.status_code == 200 and served.content == google.made[0]
    assert served.headers["content-type"] == "image/jpeg"


def test_imagen_vendor_fields_pass_through(client: openai.OpenAI, google: FakeGoogleImages) -> None:
    client.images.generate(model=IMAGEN, prompt="people at a market",
                           extra_body={"person_generation": "allow_adult", "aspect_ratio": "16:9"})
    parameters = google.heard[-1].json["parameters"]
    assert parameters["personGeneration"] == "allow_adult" and parameters["aspectRatio"] == "16:9"


@pytest.mark.parametrize(("options", "param"), [
    ({"n": 5}, "n"),
    ({"quality": "hd"}, "quality"),
    ({"output_format": "webp"}, "output_format"),
    ({"size": "big"}, "size"),
    ({"extra_body": {"aspect_ratio": "7:3"}}, "aspect_ratio"),
])
def test_imagen_refuses_what_it_cannot_do_naming_the_field(client: openai.OpenAI, google: FakeGoogleImages,
                                                           options: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=IMAGEN, prompt="anything", **options)
    assert caught.value.body["param"] == param
    assert google.heard == []  # refused before the upstream


def test_imagen_safety_filter_is_a_content_policy_violation(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=IMAGEN, prompt="something forbidden")
    assert caught.value.body["code"] == "content_policy_violation"
    assert "might violate our policies" in caught.value.body["message"]


def test_imagen_upstream_errors_keep_their_message(live: LiveServer, google: FakeGoogleImages) -> None:
    google.key = "another-key"
    try:
        response = httpx.post(live.url + "/v1/images/generations", timeout=30,
                              headers={"authorization": f"Bearer {MASTER_KEY}"},
                              json={"model": IMAGEN, "prompt": "x"})
    finally:
        google.key = "goog-key"
    assert response.status_code >= 400 and "unregistered callers" in response.json()["error"]["message"]


def test_edits_and_streams_are_refused_on_vendor_models(client: openai.OpenAI, live: LiveServer) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
    with pytest.raises(openai.BadRequestError) as edit:
        client.images.edit(model=IMAGEN, prompt="brighter", image=("a.png", io.BytesIO(png), "image/png"))
    assert edit.value.body["param"] == "model" and "only generates images" in edit.value.body["message"]
    response = httpx.post(live.url + "/v1/images/generations", timeout=30,
                          headers={"authorization": f"Bearer {MASTER_KEY}"},
                          json={"model": CORE, "prompt": "x", "stream": True})
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream"


# --- Google: Gemini image models (:generateContent) -----------------------------------------------

def test_gemini_image_model_through_generate_content(client: openai.OpenAI, google: FakeGoogleImages,
                                                     live: LiveServer) -> None:
    raw = client.images.with_raw_response.generate(model=GEMINI, prompt="a banana in space", n=2, size="1024x1024")
    reply = raw.parse()
    assert [h.path for h in google.heard] == ["/v1beta/models/gemini-2.5-flash-image:generateContent"] * 2
    assert google.heard[0].json == {"contents": [{"role": "user", "parts": [{"text": "a banana in space"}]}],
                                    "generationConfig": {"responseModalities": ["IMAGE"],
                                                         "imageConfig": {"aspectRatio": "1:1"}}}
    assert sorted(_b64(reply)) == sorted(google.made) and len(google.made) == 2
    assert reply.usage is not None
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (18, 2580)
    assert raw.headers["x-switchyard-cost-usd"] == "0.0774054"  # 18 at 0.30 + 2580 at 30 per million
    entry = ledger_entry(live, raw.headers["x-request-id"])
    assert (entry["kind"], entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == ("images", 18, 2580)


def test_gemini_prompt_block_is_a_content_policy_violation(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=GEMINI, prompt="forbidden things")
    assert caught.value.body["code"] == "content_policy_violation"
    assert "PROHIBITED_CONTENT" in caught.value.body["message"]


# --- Stability AI (v2beta stable-image/generate) ---------------------------------------------------

def test_stability_core_as_json(client: openai.OpenAI, stability: FakeStability) -> None:
    reply = client.images.generate(model=CORE, prompt="a fox in snow", size="1792x1024",
                                   extra_body={"negative_prompt": "blurry", "seed": 7, "style_preset": "anime"})
    heard = stability.heard[-1]
    assert heard.path == "/v2beta/stable-image/generate/core"
    assert heard.content_type.startswith("multipart/form-data")
    assert heard.headers["authorization"] == "Bearer sk-stability" and heard.headers["accept"] == "application/json"
    assert heard.form == {"prompt": "a fox in snow", "aspect_ratio": "16:9", "negative_prompt": "blurry",
                          "seed": "7", "style_preset": "anime"}
    assert _b64(reply) == stability.made and reply.output_format == "png"


def test_stability_image_bytes_as_a_url(client: openai.OpenAI, stability: FakeStability, live: LiveServer) -> None:
    reply = client.images.generate(model=CORE_BYTES, prompt="a webp fox", output_format="webp",
                                   response_format="url")
    heard = stability.heard[-1]
    assert heard.headers["accept"] == "image/*" and heard.form["output_format"] == "webp"
    served = httpx.get(reply.data[0].url or "")
    assert served.content == stability.made[0] and served.headers["content-type"] == "image/webp"
    assert reply.output_format == "webp"


def test_stability_makes_one_request_per_image_each_priced(client: openai.OpenAI, stability: FakeStability,
                                                          live: LiveServer) -> None:
    raw = client.images.with_raw_response.generate(model=CORE, prompt="three foxes", n=3)
    reply = raw.parse()
    assert len(stability.heard) == 3 and sorted(_b64(reply)) == sorted(stability.made)
    assert len(set(stability.made)) == 3
    assert Decimal(raw.headers["x-switchyard-cost-usd"]) == 3 * Decimal("0.03")
    assert Decimal(ledger_entry(live, raw.headers["x-request-id"])["cost"]["exact"]) == 3 * Decimal("0.03")


def test_stability_sd3_models_name_themselves(client: openai.OpenAI, stability: FakeStability) -> None:
    client.images.generate(model=SD3, prompt="a castle")
    heard = stability.heard[-1]
    assert heard.path == "/v2beta/stable-image/generate/sd3" and heard.form["model"] == "sd3.5-large"


def test_stability_content_filter_is_a_content_policy_violation(client: openai.OpenAI) -> None:
    for model in (CORE, CORE_BYTES):
        with pytest.raises(openai.BadRequestError) as caught:
            client.images.generate(model=model, prompt="forbidden fox")
        assert caught.value.body["code"] == "content_policy_violation"


def test_stability_errors_keep_their_message(live: LiveServer, stability: FakeStability) -> None:
    stability.key = "sk-other"
    try:
        response = httpx.post(live.url + "/v1/images/generations", timeout=30,
                              headers={"authorization": f"Bearer {MASTER_KEY}"},
                              json={"model": CORE, "prompt": "x"})
    finally:
        stability.key = "sk-stability"
    assert response.status_code >= 400
    assert "authorization: invalid or missing header" in response.json()["error"]["message"]

