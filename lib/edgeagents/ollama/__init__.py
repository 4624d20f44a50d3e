"""The guide's Ollama patterns (lab 09) over a real Ollama server: the multi-model manager, the production service,
its monitoring and the hardware tiers (:mod:`.service`).

The server, its installer, the client and the runtime live in :mod:`edgeagents.runtimes.ollama`.
"""
