"""The one OpenAI-compatible LLM client (Decision 7): OpenRouter by default, any base URL."""
from studio.engine.llm.client import ChatResult, LLMClient, LLMRefused, LLMUnavailable, client_for
from studio.engine.llm.vision import image_part, user_message

__all__ = ["ChatResult", "LLMClient", "LLMRefused", "LLMUnavailable", "client_for", "image_part",
           "user_message"]
