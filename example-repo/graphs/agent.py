"""A small chat agent whose behaviour is configured per assistant through its context.

`model_name` picks the chat model: "echo" is a deterministic offline model that repeats the
system prompt and your last message; "openai" and "anthropic" use the real providers when their
package is installed and their API key is set, and fall back to the echo model otherwise, so the
graph always runs offline.
"""

import importlib.util
import os
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from pydantic import Field
from typing_extensions import TypedDict

ModelName = Literal["echo", "openai", "anthropic"]


@dataclass
class ContextSchema:
    """What an assistant can configure about the agent."""

    model_name: Annotated[ModelName, "Which chat model answers"] = "echo"
    system_prompt: Annotated[str, "The system prompt sent before the conversation"] = (
        "You are a helpful assistant."
    )
    temperature: Annotated[float, Field(ge=0.0, le=2.0, description="Sampling temperature")] = 0.0


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class EchoChatModel(BaseChatModel):
    """Offline and deterministic: answers with the system prompt and the last user message."""

    label: str = "echo"

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        system = next((m.text for m in messages if isinstance(m, SystemMessage)), "")
        said = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        reply = AIMessage(content=f"[{self.label}] (system: {system}) you said: {said}")
        return ChatResult(generations=[ChatGeneration(message=reply)])


PROVIDERS: dict[str, tuple[str, str]] = {
    # model_name: (package, API key variable)
    "openai": ("langchain_openai", "OPENAI_API_KEY"),
    "anthropic": ("langchain_anthropic", "ANTHROPIC_API_KEY"),
}


def provider_available(model_name: str) -> bool:
    if model_name not in PROVIDERS:
        return False
    package, key = PROVIDERS[model_name]
    return bool(os.environ.get(key)) and importlib.util.find_spec(package) is not None


def chat_model(context: ContextSchema) -> BaseChatModel:
    name = context.model_name
    if not provider_available(name):
        return EchoChatModel(label="echo" if name == "echo" else f"echo, {name} unavailable")
    if name == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model="gpt-4o-mini", temperature=context.temperature)
    from langchain_anthropic import ChatAnthropic

    return ChatAnthropic(model="claude-3-5-haiku-latest", temperature=context.temperature)


def call_model(state: State, runtime: Runtime[ContextSchema]) -> dict[str, list[AnyMessage]]:
    context = runtime.context or ContextSchema()
    prompt = [SystemMessage(content=context.system_prompt), *state["messages"]]
    return {"messages": [chat_model(context).invoke(prompt)]}


builder = StateGraph(State, context_schema=ContextSchema)
builder.add_node("call_model", call_model)
builder.add_edge(START, "call_model")
builder.add_edge("call_model", END)
graph = builder.compile(name="agent")
