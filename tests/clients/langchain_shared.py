"""What the LangChain tests of both chat models share: the structured-output schema and the tool."""

from __future__ import annotations

from langchain_core.tools import tool
from pydantic import BaseModel


class City(BaseModel):
    name: str
    country: str


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."
