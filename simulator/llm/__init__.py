"""The optional LLM layer: a chat-model persona voice and judge over an OpenAI-compatible API.

Import from the submodules (``simulator.llm.voice``, ``simulator.llm.judge``,
``simulator.llm.client``, ``simulator.llm.guard``) so that the offline product never
imports LangChain.
"""
