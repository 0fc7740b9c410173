"""The Responses ``code_interpreter`` tool through the OpenAI SDK (strict validation) against
a live server whose model is a scripted loopback upstream that calls the tool: code runs in
a real sandbox, with the CSV the request gave, and its logs, plot and file come back as the
spec's items, events and citations."""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Iterator

import openai
import orjson
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import project_key

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="scripts/install-sandbox.sh not run")

OUTPUTS = ["code_interpreter_call.outputs"]
CSV = b"region,amount\nnorth,10\nsouth,32\nnorth,5\n"
ANALYSIS = ("import pandas as pd\nimport matplotlib.pyplot as plt\n"
            "df = pd.read_csv('/mnt/data/sales.csv')\ntotal = int(df.amount.sum())\nprint('total', total)\n"
            "df.groupby('region').amount.sum().plot(kind='bar')\n"
            "df.groupby('region').amount.sum().to_csv('/mnt/data/by_region.csv')")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
         fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("code"), upstream_models(fake_openai, fake_anthropic),
                        sandbox={"warm": 1, "wall_seconds": 20})
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                         _strict_response_validation=True)


def tool_turn(code: str, call_id: str = "call_ci1") -> ow.Reply:
    return ow.completion(None, tool_calls=[(call_id, "code_interpreter", orjson.dumps({"code": code}).decode())],
                         finish_reason="tool_calls")


def auto(*file_ids: str) -> dict[str, object]:
    return {"type": "code_interpreter", "container": {"type": "auto", "file_ids": list(file_ids)}}


def test_code_reads_an_uploaded_csv_and_returns_logs_a_plot_and_a_cited_file(
        client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    csv = client.files.create(file=("sales.csv", CSV, "text/csv"), purpose="user_data")
    fake_openai.script(tool_turn(ANALYSIS), ow.completion("The total is 47; the totals are in by_region.csv."))
    response = client.responses.create(model=VIA_OPENAI, input="Total the sales.", tools=[auto(csv.id)],
                                       include=OUTPUTS)
    assert [item.type for item in response.output] == ["code_interpreter_call", "message"]
    call = response.output[0]
    assert call.type == "code_interpreter_call" and call.status == "completed" and call.id.startswith("ci_")
    assert call.code == ANALYSIS and call.container_id.startswith("cntr_")
    assert call.outputs is not None
    logs = [o.logs for o in call.outputs if o.type == "logs"]
    images = [o.url for o in call.outputs if o.type == "image"]
    assert logs == ["total 47"], call.outputs
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert base64.b64decode(images[0].split(",", 1)[1]).startswith(b"\x89PNG")
    # the model read the logs back, and was told of the image and the file
    told = fake_openai.last.body["messages"][-1]
    assert told["role"] == "tool" and "total 47" in str(told["content"])
    assert "/mnt/data/by_region.csv" in str(told["content"]) and "image" in str(told["content"])
    assert fake_openai.received[0].body["tools"][0]["function"]["name"] == "code_interpreter"
    # the answer cites the file the code wrote, and the file is the container's
    text = response.output[1].content[0]
    citations = [a for a in text.annotations if a.type == "container_file_citation"]
    assert len(citations) == 1, text.annotations
    cite = citations[0]
    assert (cite.container_id, cite.filename) == (call.container_id, "by_region.csv")
    assert text.text[cite.start_index:cite.end_index] == "by_region.csv"
    content = client.containers.files.content.retrieve(cite.file_id, container_id=call.container_id)
    assert content.read() == b"region,amount\nnorth,15\nsouth,32\n"

    # a follow-up reuses the container: the variables are still there
    fake_openai.script(tool_turn("print(total * 2)", "call_ci2"), ow.completion("Twice is 94."))
    follow = client.responses.create(model=VIA_OPENAI, input="Double it.", previous_response_id=response.id,
                                     tools=[auto()], include=OUTPUTS)
    again = follow.output[0]
    assert again.type == "code_interpreter_call" and again.container_id == call.container_id
    assert again.outputs is not None and [o.logs for o in again.outputs if o.type == "logs"] == ["94"]
    # the earlier call was replayed to the model as its code and logs
    history = str(fake_openai.received[-2].body["messages"])
    assert "total 47" in history and "read_csv" in history


def test_a_streamed_answer_cites_the_file_the_code_wrote(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    code = "open('/mnt/data/report.txt', 'w').write('all good')"
    fake_openai.script(ow.stream([], tool_calls=[("call_ci1", "code_interpreter", [orjson.dumps({"code": code})
                                                                                  .decode()])]),
                       ow.stream(["See ", "report.txt", "."]))
    events = list(client.responses.create(model=VIA_OPENAI, input="Write it.", tools=[auto()], stream=True))
    check_stream([e.model_dump(mode="json", exclude_unset=True) for e in events])
    added = [e.annotation for e in events if e.type == "response.output_text.annotation.added"]
    assert len(added) == 1 and added[0].type == "container_file_citation", added
    assert (added[0].filename, added[0].start_index, added[0].end_index) == ("report.txt", 4, 14)
    final = events[-1].response
    message = final.output[-1]
    assert message.type == "message" and message.content[0].annotations[0].file_id == added[0].file_id


def test_outputs_are_shown_only_when_included(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(tool_turn("print('hidden')"), ow.completion("Done."))
    response = client.responses.create(model=VIA_OPENAI, input="Run it.", tools=[auto()])
    assert response.output[0].type == "code_interpreter_call" and response.output[0].outputs is None
    assert "hidden" in str(fake_openai.last.body["messages"][-1]["content"])


def test_streamed_events_follow_the_spec(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_ci1", "code_interpreter", ['{"code": "6 * 7"}'])]),
                       ow.stream(["It is ", "42."]))
    events = list(client.responses.create(model=VIA_OPENAI, input="Compute.", tools=[auto()], stream=True,
                                          include=OUTPUTS))
    types = [e.type for e in events]
    ci = [t for t in types if "code_interpreter" in t]
    assert ci == ["response.code_interpreter_call.in_progress", "response.code_interpreter_call_code.delta",
                  "response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting",
                  "response.code_interpreter_call.completed"], types
    added = next(e for e in events if e.type == "response.output_item.added" and e.item.type == "code_interpreter_call")
    assert added.item.status == "in_progress" and types.index("response.output_item.added") < types.index(ci[0])
    delta = next(e for e in events if e.type == "response.code_interpreter_call_code.delta")
    assert delta.delta == "6 * 7" and delta.item_id == added.item.id
    done = next(e for e in events if e.type == "response.output_item.done" and e.item.type == "code_interpreter_call")
    assert done.item.outputs is not None and done.item.outputs[0].logs == "42"
    assert types[-1] == "response.completed"
    check_stream([e.model_dump(mode="json", exclude_unset=True) for e in events])  # order, pairing, the spec


def test_a_limit_hit_is_reported_and_the_response_completes(client: openai.OpenAI,
                                                            fake_openai: FakeUpstream) -> None:
    fake_openai.script(tool_turn("x = bytearray(8 * 1024**3)"), ow.completion("Too big."))
    response = client.responses.create(model=VIA_OPENAI, input="Allocate.", tools=[auto()], include=OUTPUTS)
    call = response.output[0]
    assert call.type == "code_interpreter_call" and call.outputs is not None
    assert "MemoryError" in call.outputs[0].logs
    assert response.status == "completed" and response.output_text == "Too big."


def test_an_explicit_container_of_another_project_is_not_found(client: openai.OpenAI, live: LiveServer,
                                                               fake_openai: FakeUpstream) -> None:
    container = client.containers.create(name="mine")
    other = openai.OpenAI(base_url=live.url + "/v1", api_key=project_key(live.url, "ci-other"), max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        other.responses.create(model=VIA_OPENAI, input="Run.",
                               tools=[{"type": "code_interpreter", "container": container.id}])
    assert caught.value.body["param"] == "tools[0].container"
    assert fake_openai.received == []
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model=VIA_OPENAI, input="Run.", tools=[{"type": "code_interpreter"}])
    assert bad.value.body["param"] == "tools[0].container"
    # with the owner's id, the code runs in that container
    fake_openai.script(tool_turn("open('/mnt/data/note.txt', 'w').write('hi')"), ow.completion("Wrote it."))
    response = client.responses.create(model=VIA_OPENAI, input="Write.",
                                       tools=[{"type": "code_interpreter", "container": container.id}])
    assert response.output[0].container_id == container.id
    names = [f.path for f in client.containers.files.list(container.id)]
    assert names == ["/mnt/data/note.txt"]


def test_a_background_response_runs_code(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    # a background run streams from its upstream
    fake_openai.script(ow.stream([], tool_calls=[("call_ci1", "code_interpreter", ['{"code": "sum(range(10))"}'])]),
                       ow.stream(["45."]))
    queued = client.responses.create(model=VIA_OPENAI, input="Sum.", tools=[auto()], background=True,
                                     include=OUTPUTS)
    assert queued.status in ("queued", "in_progress")
    for _ in range(200):
        done = client.responses.retrieve(queued.id)
        if done.status not in ("queued", "in_progress"):
            break
        time.sleep(0.1)
    assert done.status == "completed", (done.error, done.output)
    call = done.output[0]
    assert call.type == "code_interpreter_call" and call.status == "completed"
    assert call.outputs is not None and call.outputs[0].logs == "45"
