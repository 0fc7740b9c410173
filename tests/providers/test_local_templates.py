"""Each family's tool-call style, read from its chat template; tools for a template
that has no place for them."""

from __future__ import annotations

import pytest

from switchyard.core.items import FunctionCall, FunctionCallOutput, TextPart, text_message
from switchyard.core.request import Request, Tool
from switchyard.providers.local.prompt import chat_messages, render
from switchyard.providers.local.templates import tool_style

CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.mark.parametrize(
    ("template", "native", "prefill"),
    [
        ("{% if tools %}<tools>{{ tools | tojson }}</tools> <tool_call>{% endif %}", True, "<tool_call>\n"),
        ("{% if tools %}[AVAILABLE_TOOLS]{{ tools|tojson }}[/AVAILABLE_TOOLS]{% endif %}[TOOL_CALLS]", True,
         "[TOOL_CALLS]"),
        ('{% if tools %}{"name": function name, "parameters": ...}<|python_tag|>{% endif %}', True, ""),
        (CHATML, False, "<tool_call>\n"),
    ],
    ids=["qwen", "mistral", "llama3", "no tools"],
)
def test_tool_style(template: str, native: bool, prefill: str) -> None:
    style = tool_style(template)
    assert (style.native, style.prefill) == (native, prefill)


def test_a_template_without_tools_gets_them_in_the_system_message() -> None:
    req = Request(
        model="m",
        items=[
            text_message("user", "Weather in Oslo?"),
            FunctionCall(call_id="c1", name="get_weather", arguments='{"city": "Oslo"}'),
            FunctionCallOutput(call_id="c1", output=[TextPart("rain")]),
        ],
        tools=[Tool(name="get_weather", description="Weather for a city")],
    )
    messages = chat_messages(req, native_tools=False)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "<tools>" in messages[0]["content"] and '"get_weather"' in messages[0]["content"]
    assert messages[2]["content"] == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
    assert messages[3]["content"] == "<tool_response>\nrain\n</tool_response>"
    out = render(CHATML, messages, [])
    assert out.count("<|im_start|>") == 5
