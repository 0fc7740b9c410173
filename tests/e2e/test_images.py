"""The Images API through the OpenAI SDK (strict validation) against a live server, relayed
to a loopback upstream answering in OpenAI's exact shapes: generations, edits (image[] and
mask), variations, both output forms, streamed partial images, links served here per
project, and the clear 4xx when no image model is configured."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from tests.e2e.media import DALL_E, GPT_IMAGE, MAX_IMAGE_BYTES, start_media_server
from tests.e2e.raw import post
from tests.fakes import media_wire as mw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, Raw
from tests.server import MASTER_KEY, LiveServer, sdk
from tests.spec import validate_openai
from tests.tenants import project_key

RED, BLUE, GREEN = mw.png(rgb=(255, 0, 0)), mw.png(rgb=(0, 0, 255)), mw.png(3, 3, (0, 255, 0))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = start_media_server(tmp_path_factory.mktemp("images"), fake_openai)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = start_media_server(tmp_path_factory.mktemp("no-images"), fake_openai, images=False)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


def _png_file(data: bytes, name: str = "image.png") -> tuple[str, io.BytesIO, str]:
    return name, io.BytesIO(data), "image/png"


# --- generations --------------------------------------------------------------------------------

def test_generate_b64_from_a_gpt_image_upstream(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(RED))
    reply = client.images.generate(model=GPT_IMAGE, prompt="a red square", quality="low", size="1024x1024")
    assert base64.b64decode(reply.data[0].b64_json) == RED
    assert reply.usage is not None and reply.usage.total_tokens == 322
    assert reply.output_format == "png" and reply.quality == "low" and reply.size == "1024x1024"
    sent = fake_openai.last
    assert sent.path == "/v1/images/generations"
    assert sent.body == {"model": "gpt-image-1", "prompt": "a red square", "quality": "low", "size": "1024x1024"}
    assert sent.headers["authorization"] == "Bearer upstream-key"


def test_generate_url_is_served_here_for_the_project(live: LiveServer, fake_openai: FakeUpstream) -> None:
    key = project_key(live.url, "image owner")
    fake_openai.script(mw.images_b64(RED, BLUE))
    reply = sdk(live, key).images.generate(model=GPT_IMAGE, prompt="two squares", n=2, response_format="url")
    assert "response_format" not in fake_openai.last.body  # GPT image models refuse it; converted here
    assert fake_openai.last.body["n"] == 2
    urls = [d.url for d in reply.data]
    assert all(u is not None and u.startswith(live.url + "/v1/images/files/img_") for u in urls)
    assert all(d.b64_json is None for d in reply.data)
    first = httpx.get(urls[0])  # a signed link needs no key, as OpenAI's do
    assert first.status_code == 200 and first.content == RED
    assert first.headers["content-type"] == "image/png"
    assert httpx.get(urls[1]).content == BLUE

    bare_path = live.url + urlsplit(urls[0]).path
    owner = httpx.get(bare_path, headers={"authorization": f"Bearer {key}"})
    assert owner.status_code == 200 and owner.content == RED
    other = httpx.get(bare_path, headers={"authorization": f"Bearer {project_key(live.url, 'someone else')}"})
    assert other.status_code == 404, other.text
    assert other.json()["error"]["param"] == "image_id"
    assert httpx.get(bare_path).status_code == 401  # no signature and no key
    tampered = urls[0][:-4] + ("0000" if not urls[0].endswith("0000") else "1111")
    assert httpx.get(tampered).status_code == 404
    later = urls[0].replace("expires=", "expires=9")
    assert httpx.get(later).status_code == 404  # the expiry is signed too


def test_dall_e_urls_are_fetched_and_rehosted(client: openai.OpenAI, live: LiveServer,
                                               fake_openai: FakeUpstream) -> None:
    upstream_url = fake_openai.url + "/blob/abc.png"
    fake_openai.script(mw.images_url(upstream_url, revised_prompt="a vivid green square"), Raw(GREEN, "image/png"))
    reply = client.images.generate(model=DALL_E, prompt="a green square", size="256x256")
    assert [r.path for r in fake_openai.received] == ["/v1/images/generations", "/blob/abc.png"]
    assert "authorization" not in fake_openai.last.headers  # the upstream's key stays with its API
    assert reply.data[0].revised_prompt == "a vivid green square"
    assert reply.data[0].url is not None and reply.data[0].url.startswith(live.url)
    assert httpx.get(reply.data[0].url).content == GREEN


def test_dall_e_url_as_b64_json_when_asked(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_url(fake_openai.url + "/blob/x.png"), Raw(GREEN, "image/png"))
    reply = client.images.generate(model=DALL_E, prompt="green", response_format="b64_json")
    assert base64.b64decode(reply.data[0].b64_json) == GREEN and reply.data[0].url is None


def test_answer_matches_the_published_schema(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(RED))
    response = post(live, "/v1/images/generations", {"model": GPT_IMAGE, "prompt": "red"})
    assert response.status_code == 200, response.text
    validate_openai(response.json(), "ImagesResponse")


def test_streamed_partial_images(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.image_stream("image_generation", [BLUE, GREEN], RED))
    events = list(client.images.generate(model=GPT_IMAGE, prompt="red, eventually", stream=True,
                                         partial_images=2))
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [base64.b64decode(e.b64_json) for e in events] == [BLUE, GREEN, RED]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert events[-1].usage.total_tokens == 322
    assert fake_openai.last.body["stream"] is True and fake_openai.last.body["partial_images"] == 2


def test_default_model_is_the_first_image_model(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(RED))
    client.images.generate(prompt="no model named")
    assert fake_openai.last.body["model"] == "gpt-image-1"


# --- edits and variations -----------------------------------------------------------------------

def test_edit_with_several_images_and_a_mask(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(GREEN))
    reply = client.images.edit(model=GPT_IMAGE, image=[_png_file(RED, "a.png"), _png_file(BLUE, "b.png")],
                               mask=_png_file(GREEN, "mask.png"), prompt="blend them", n=1, size="1024x1024")
    assert base64.b64decode(reply.data[0].b64_json) == GREEN
    sent = fake_openai.last
    assert sent.path == "/v1/images/edits"
    assert [(f["filename"], f["content"]) for f in sent.body["image[]"]] == [("a.png", RED), ("b.png", BLUE)]
    assert sent.body["mask"]["content"] == GREEN
    assert (sent.body["model"], sent.body["prompt"], sent.body["n"]) == ("gpt-image-1", "blend them", "1")


def test_edit_one_image_as_url(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_b64(BLUE))
    reply = client.images.edit(model=GPT_IMAGE, image=_png_file(RED), prompt="make it blue", response_format="url")
    assert fake_openai.last.body["image"]["content"] == RED
    assert reply.data[0].url is not None and httpx.get(reply.data[0].url).content == BLUE


def test_edit_streamed(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.image_stream("image_edit", [GREEN], BLUE))
    events = list(client.images.edit(model=GPT_IMAGE, image=_png_file(RED), prompt="blue", stream=True))
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert base64.b64decode(events[-1].b64_json) == BLUE
    assert fake_openai.last.body["stream"] == "true"


def test_variation(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(mw.images_url(fake_openai.url + "/blob/v.png"), Raw(GREEN, "image/png"))
    reply = client.images.create_variation(model=DALL_E, image=_png_file(RED), n=1, size="256x256")
    sent = fake_openai.received[0]
    assert sent.path == "/v1/images/variations"
    assert sent.body["image"]["content"] == RED and sent.body["model"] == "dall-e-2"
    assert reply.data[0].url is not None and httpx.get(reply.data[0].url).content == GREEN


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": GPT_IMAGE}, 400, "prompt"),
        ({"model": GPT_IMAGE, "prompt": "  "}, 400, "prompt"),
        ({"model": GPT_IMAGE, "prompt": 5}, 400, "prompt"),
        ({"model": GPT_IMAGE, "prompt": "x", "n": 11}, 400, "n"),
        ({"model": GPT_IMAGE, "prompt": "x", "n": "two"}, 400, "n"),
        ({"model": GPT_IMAGE, "prompt": "x", "response_format": "gif"}, 400, "response_format"),
        ({"model": GPT_IMAGE, "prompt": "x", "partial_images": 4}, 400, "partial_images"),
        ({"model": GPT_IMAGE, "prompt": "x", "stream": "yes"}, 400, "stream"),
        ({"model": GPT_IMAGE, "prompt": "x", "stream": True, "response_format": "url"}, 400, "response_format"),
        ({"model": GPT_IMAGE, "prompt": "x", "size": {"w": 1}}, 400, "size"),
        ({"model": "no-such-image-model", "prompt": "x"}, 404, "model"),
        ({"model": "gpt-fake", "prompt": "x"}, 400, "model"),
        ({"model": "profanity-check", "prompt": "x"}, 400, "model"),
    ],
)
def test_bad_generation_requests_name_the_field(live: LiveServer, fake_openai: FakeUpstream, body: dict,
                                                status: int, param: str) -> None:
    response = post(live, "/v1/images/generations", body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param, response.json()
    validate_openai(response.json(), "ErrorResponse")
    assert fake_openai.received == []


def _form(live: LiveServer, path: str, data: dict, files: list) -> httpx.Response:
    return httpx.post(live.url + path, data=data, files=files, headers={"authorization": f"Bearer {MASTER_KEY}"},
                      timeout=30)


def test_edit_without_an_image_names_image(live: LiveServer, fake_openai: FakeUpstream) -> None:
    response = _form(live, "/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x"},
                     [("mask", ("m.png", GREEN, "image/png"))])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "image"
    assert fake_openai.received == []


def test_an_image_sent_as_text_names_image(live: LiveServer, fake_openai: FakeUpstream) -> None:
    response = _form(live, "/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x", "image": "not a file"},
                     [("mask", ("m.png", GREEN, "image/png"))])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "image" and "file upload" in response.json()["error"]["message"]
    assert fake_openai.received == []


def test_oversized_upload_is_413_naming_the_field(live: LiveServer, fake_openai: FakeUpstream) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_IMAGE_BYTES
    response = _form(live, "/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x"},
                     [("image", ("big.png", big, "image/png"))])
    assert response.status_code == 413, response.text
    assert response.json()["error"]["param"] == "image"
    response = _form(live, "/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x"},
                     [("image", ("ok.png", RED, "image/png")), ("mask", ("big.png", big, "image/png"))])
    assert response.status_code == 413 and response.json()["error"]["param"] == "mask"
    assert fake_openai.received == []


@pytest.mark.parametrize(
    ("path", "data", "files", "param"),
    [
        ("/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x", "n": "many"}, ["image"], "n"),
        ("/v1/images/edits", {"model": GPT_IMAGE}, ["image"], "prompt"),
        ("/v1/images/edits", {"model": GPT_IMAGE, "prompt": "x"}, ["image", "photo"], "photo"),
        ("/v1/images/variations", {"model": DALL_E, "stream": "true"}, ["image"], "stream"),
        ("/v1/images/variations", {"model": DALL_E, "prompt": "x"}, ["image"], "prompt"),
        ("/v1/images/variations", {"model": DALL_E}, ["mask"], "mask"),
    ],
)
def test_bad_form_requests_name_the_field(live: LiveServer, fake_openai: FakeUpstream, path: str, data: dict,
                                          files: list[str], param: str) -> None:
    response = _form(live, path, data, [(name, ("f.png", RED, "image/png")) for name in files])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param, response.json()
    assert fake_openai.received == []


def test_upstream_refusal_is_relayed(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.error(400, "Your request was rejected by the safety system."))
    response = post(live, "/v1/images/generations", {"model": GPT_IMAGE, "prompt": "x"})
    assert response.status_code == 400, response.text
    assert "safety system" in response.json()["error"]["message"]


def test_upstream_without_data_is_a_502(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.Reply({"created": 1}))
    response = post(live, "/v1/images/generations", {"model": GPT_IMAGE, "prompt": "x"})
    assert response.status_code == 502, response.text


def test_no_image_model_configured_says_so(bare: LiveServer, fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(bare).images.generate(model="gpt-image-1", prompt="anything")
    body = caught.value.body
    assert body["param"] == "model" and body["code"] == "model_not_configured"
    assert "No image generation model is configured" in body["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(bare).images.create_variation(image=_png_file(RED))
    assert caught.value.body["param"] == "model"
    assert fake_openai.received == []


# --- the Responses image_generation tool -------------------------------------------------------

IMAGE_TOOL = {"type": "image_generation", "model": GPT_IMAGE, "quality": "low", "size": "1024x1024"}


def _tool_turn(prompt: str) -> ow.Reply:
    return ow.completion(None, tool_calls=[("call_img1", "image_generation", f'{{"prompt": "{prompt}"}}')],
                         finish_reason="tool_calls")


def test_responses_image_generation_tool(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(_tool_turn("a red square"), mw.images_b64(RED), ow.completion("Here is your red square."))
    response = client.responses.create(model="gpt-fake", input="Draw a red square.", tools=[IMAGE_TOOL])
    kinds = [item.type for item in response.output]
    assert kinds == ["image_generation_call", "message"], kinds
    call = response.output[0]
    assert call.status == "completed" and call.id.startswith("ig_")
    assert base64.b64decode(call.result) == RED
    assert call.revised_prompt == "a red square" and call.size == "1024x1024"
    assert response.output_text == "Here is your red square."
    paths = [r.path for r in fake_openai.received]
    assert paths == ["/v1/chat/completions", "/v1/images/generations", "/v1/chat/completions"]
    assert fake_openai.received[0].body["tools"][0]["function"]["name"] == "image_generation"
    assert fake_openai.received[1].body == {"model": "gpt-image-1", "prompt": "a red square", "quality": "low",
                                            "size": "1024x1024"}
    told = fake_openai.received[2].body["messages"][-1]
    assert told["role"] == "tool" and "generated and shown to the user" in str(told["content"])

    fake_openai.script(ow.completion("It was red."))
    follow = client.responses.create(model="gpt-fake", input="What colour was it?", previous_response_id=response.id,
                                     tools=[IMAGE_TOOL])
    assert follow.output_text == "It was red."
    history = fake_openai.last.body["messages"]
    assert any(m.get("tool_calls") and m["tool_calls"][0]["function"]["name"] == "image_generation"
               for m in history), history


def test_responses_image_generation_tool_streamed(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_img1", "image_generation", ['{"prompt": "blue"}'])]),
                       mw.images_b64(BLUE), ow.stream(["Done", "."]))
    events = list(client.responses.create(model="gpt-fake", input="Draw blue.", tools=[IMAGE_TOOL], stream=True))
    types = [e.type for e in events]
    for expected in ("response.image_generation_call.in_progress", "response.image_generation_call.generating",
                     "response.image_generation_call.completed"):
        assert expected in types, types
    done = [e.item for e in events if e.type == "response.output_item.done" and e.item.type == "image_generation_call"]
    assert len(done) == 1 and base64.b64decode(done[0].result) == BLUE
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_responses_image_tool_streams_partial_images(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_img1", "image_generation", ['{"prompt": "red"}'])]),
                       mw.image_stream("image_generation", [BLUE, GREEN], RED), ow.stream(["Done."]))
    tool = {**IMAGE_TOOL, "partial_images": 2}
    events = list(client.responses.create(model="gpt-fake", input="Draw red.", tools=[tool], stream=True))
    partials = [e for e in events if e.type == "response.image_generation_call.partial_image"]
    assert [base64.b64decode(e.partial_image_b64) for e in partials] == [BLUE, GREEN]
    assert [e.partial_image_index for e in partials] == [0, 1] and partials[0].size == "1024x1024"
    done = [e.item for e in events if e.type == "response.output_item.done" and e.item.type == "image_generation_call"]
    assert base64.b64decode(done[0].result) == RED and done[0].quality == "low"
    assert partials[0].item_id == done[0].id
    sent = fake_openai.received[1]
    assert sent.path == "/v1/images/generations"
    assert (sent.body["stream"], sent.body["partial_images"], sent.body["prompt"]) == (True, 2, "red")


def test_responses_image_tool_failure_fails_the_item_not_the_response(client: openai.OpenAI,
                                                                      fake_openai: FakeUpstream) -> None:
    fake_openai.script(_tool_turn("forbidden"), ow.error(400, "Rejected by the safety system."),
                       ow.completion("I could not draw that."))
    response = client.responses.create(model="gpt-fake", input="Draw it.", tools=[IMAGE_TOOL])
    call = response.output[0]
    assert call.type == "image_generation_call" and call.status == "failed" and call.result is None
    assert call.error is not None and "safety system" in call.error.message
    assert response.status == "completed" and response.output_text == "I could not draw that."
    told = fake_openai.last.body["messages"][-1]
    assert "Image generation failed" in str(told["content"])


def test_responses_image_tool_without_an_image_model(bare: LiveServer, fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(bare).responses.create(model="gpt-fake", input="Draw.", tools=[{"type": "image_generation"}])
    assert caught.value.body["param"] == "tools[0].model"
    assert "No image generation model is configured" in caught.value.body["message"]
    assert fake_openai.received == []


# --- metering ----------------------------------------------------------------------------------

def test_image_calls_are_in_the_ledger_and_held_against_budgets(live: LiveServer, fake_openai: FakeUpstream) -> None:
    from tests.e2e.ledger import wait_new
    from tests.tenants import admin_client, new_key, new_project

    project = new_project(live.url, "image budget")
    key = new_key(live.url, project)[1]
    fake_openai.script(mw.images_b64(RED))
    sdk(live, key).images.generate(model=GPT_IMAGE, prompt="red")
    entry = wait_new(live, None, project_id=project)[0]  # other tests' late entries share this server
    assert (entry["project_id"], entry["model"]) == (project, GPT_IMAGE), entry
    assert entry["kind"] == "images" and entry["surface"] == "openai.images", entry
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (50, 272), entry
    assert entry["cost"]["exact"].startswith("0.01113"), entry  # 50 * $5/M + 272 * $40/M

    with admin_client(live.url) as admin:  # 10 cents: less than one worst-case image (6240 tokens at $40/M)
        assert admin.post(f"/projects/{project}/spend_limit", json={"threshold_amount": 10}).status_code == 200
    with pytest.raises(openai.RateLimitError) as caught:
        sdk(live, key).images.generate(model=GPT_IMAGE, prompt="red again")
    assert caught.value.body["code"] == "insufficient_quota"
    assert fake_openai.received[-1].path == "/v1/images/generations" and len(fake_openai.received) == 1


def test_a_blocking_guardrail_screens_image_prompts(live: LiveServer, fake_openai: FakeUpstream) -> None:
    from tests.e2e.media import BENIGN, TOXIC
    from tests.tenants import admin_client, new_key, new_project

    project = new_project(live.url, "guarded images")
    with admin_client(live.url) as admin:
        assert admin.post(f"/projects/{project}/moderation", json={"mode": "block"}).status_code == 200
    client = sdk(live, new_key(live.url, project)[1])
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=GPT_IMAGE, prompt=TOXIC)
    assert caught.value.body["code"] == "content_policy_violation" and caught.value.body["param"] == "prompt"
    with pytest.raises(openai.BadRequestError):
        client.images.edit(model=GPT_IMAGE, image=_png_file(RED), prompt=TOXIC, stream=True)
    assert fake_openai.received == []
    fake_openai.script(mw.images_b64(GREEN))
    reply = client.images.generate(model=GPT_IMAGE, prompt=BENIGN)
    assert base64.b64decode(reply.data[0].b64_json) == GREEN


def test_malformed_bodies_never_get_a_server_error(live: LiveServer, fake_openai: FakeUpstream) -> None:
    from tests.e2e.test_no_server_errors import BODIES

    auth = {"authorization": f"Bearer {MASTER_KEY}"}
    boundary = "xyz"
    multipart = [
        ("application/json", b"{}"),
        ("multipart/form-data", b"--xyz\r\n"),
        (f"multipart/form-data; boundary={boundary}", b"garbage"),
        (f"multipart/form-data; boundary={boundary}",
         b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n"),
        (f"multipart/form-data; boundary={boundary}",
         b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG'),
        (f"multipart/form-data; boundary={boundary}",
         b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\r\n--xyz--\r\n'),
        (f"multipart/form-data; boundary={boundary}",
         b'--xyz\r\nContent-Disposition: form-data; name="n"\r\n\r\n\xff\xfe\r\n--xyz--\r\n'),
    ]
    cases = [("/v1/images/generations", "application/json", body) for body in BODIES]
    cases += [(path, kind, body) for path in ("/v1/images/edits", "/v1/images/variations") for kind, body in multipart]
    for path, kind, body in cases:
        response = httpx.post(live.url + path, content=body, headers={**auth, "content-type": kind}, timeout=30)
        assert 400 <= response.status_code < 500, (path, body[:80], response.status_code, response.text[:300])
        assert response.json()["error"]["message"], (path, body[:80])
    assert fake_openai.received == []
