"""Assistants runs with the code_interpreter tool (the sandbox's, through the shared tools
table): the code runs on the thread's files, its logs show in the run step, and the
thread's session keeps its variables from one run to the next."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator

import orjson
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.e2e.runs_support import client_for, texts, thread_with
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("switchyard.sandbox") is None, reason="no sandbox in this build"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="scripts/install-sandbox.sh not run"),
    pytest.mark.filterwarnings("ignore:.*Assistants API is deprecated:DeprecationWarning",
                               "ignore:deprecated:DeprecationWarning"),
]
CSV = b"region,amount\nnorth,10\nsouth,32\nnorth,5\n"


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
                fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("switchyard-runs-code"), upstream_models(fake_openai, fake_anthropic),
                      sandbox={"warm": 1, "wall_seconds": 20})
    live.start(wait_ready=True)
    yield live
    live.stop()


def code_turn(code: str, call_id: str) -> object:
    return ow.stream([], tool_calls=[(call_id, "code_interpreter", [orjson.dumps({"code": code}).decode()])])


def test_code_runs_on_the_threads_file_and_keeps_its_session(code_server: LiveServer,
                                                              fake_openai: FakeUpstream) -> None:
    client = client_for(code_server)
    csv = client.files.create(file=("sales.csv", CSV, "text/csv"), purpose="assistants")
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "code_interpreter"}])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Total the sales."}],
                                        tool_resources={"code_interpreter": {"file_ids": [csv.id]}})
    analysis = ("import pandas as pd\nimport os\nname = [f for f in os.listdir('/mnt/data') if f.endswith('.csv')][0]\n"
                "total = int(pd.read_csv('/mnt/data/' + name).amount.sum())\nprint('total', total)")
    fake_openai.script(code_turn(analysis, "call_c1"), ow.stream(["The total is 47."]))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    call = steps[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert call.type == "code_interpreter" and call.code_interpreter.input == analysis  # type: ignore[union-attr]
    logs = [o.logs for o in call.code_interpreter.outputs if o.type == "logs"]  # type: ignore[union-attr]
    assert logs and "total 47" in logs[0]
    told = fake_openai.last.body["messages"][-1]
    assert told["role"] == "tool" and "total 47" in str(told["content"])
    assert texts(client, thread.id)[-1] == ("assistant", "The total is 47.")

    client.beta.threads.messages.create(thread.id, role="user", content="Double it.")
    fake_openai.script(code_turn("print('double', total * 2)", "call_c2"), ow.stream(["94."]))
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert again.status == "completed", again.last_error
    (step,) = [s for s in client.beta.threads.runs.steps.list(again.id, thread_id=thread.id).data
               if s.type == "tool_calls"]
    outputs = step.step_details.tool_calls[0].code_interpreter.outputs  # type: ignore[union-attr]
    assert any(o.type == "logs" and "double 94" in o.logs for o in outputs)  # the variable lived on


def test_code_in_a_stream(code_server: LiveServer, fake_openai: FakeUpstream) -> None:
    client = client_for(code_server)
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "code_interpreter"}])
    thread = thread_with(client, "Compute.")
    fake_openai.script(code_turn("print(6 * 7)", "call_c3"), ow.stream(["42."]))
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=asst.id) as stream:
        names = [event.event for event in stream]
        steps = stream.get_final_run_steps()
    assert "thread.run.step.delta" in names and names[-1] == "thread.run.completed"
    call = steps[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert call.type == "code_interpreter" and call.code_interpreter.input == "print(6 * 7)"  # type: ignore
    assert any(o.type == "logs" and "42" in (o.logs or "") for o in call.code_interpreter.outputs)  # type: ignore


def test_a_plot_becomes_an_image_file(code_server: LiveServer, fake_openai: FakeUpstream) -> None:
    client = client_for(code_server)
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "code_interpreter"}])
    thread = thread_with(client, "Plot it.")
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])"
    fake_openai.script(code_turn(plot, "call_c4"), ow.stream(["Here it is."]))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "completed", run.last_error
    (step,) = [s for s in client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
               if s.type == "tool_calls"]
    images = [o.image.file_id for o in step.step_details.tool_calls[0].code_interpreter.outputs  # type: ignore
              if o.type == "image"]
    assert len(images) == 1 and images[0].startswith("file-")
    assert client.files.retrieve(images[0]).purpose == "assistants_output"
    assert client.files.content(images[0]).read().startswith(b"\x89PNG")
    (message,) = client.beta.threads.messages.list(thread.id, run_id=run.id).data
    assert [c.type for c in message.content] == ["image_file", "text"]
    assert message.content[0].image_file.file_id == images[0]  # type: ignore[union-attr]


def test_a_written_file_becomes_a_linked_file(code_server: LiveServer, fake_openai: FakeUpstream) -> None:
    client = client_for(code_server)
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "code_interpreter"}])
    thread = thread_with(client, "Save the totals.")
    save = "open('/mnt/data/totals.csv', 'w').write('region,amount\\nnorth,15\\n')"
    fake_openai.script(code_turn(save, "call_c5"), ow.stream(["Saved."]))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "completed", run.last_error
    (message,) = client.beta.threads.messages.list(thread.id, run_id=run.id).data
    text = message.content[0].text  # type: ignore[union-attr]
    (link,) = text.annotations
    assert link.type == "file_path" and text.value[link.start_index:link.end_index] == link.text
    assert link.text == "sandbox:/mnt/data/totals.csv"
    kept = client.files.retrieve(link.file_path.file_id)  # type: ignore[union-attr]
    assert kept.filename == "totals.csv" and kept.purpose == "assistants_output"
    assert client.files.content(kept.id).read() == b"region,amount\nnorth,15\n"
