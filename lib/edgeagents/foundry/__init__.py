"""The guide's Foundry Local patterns (lab 08) on the real SDK: the agent service, its monitor and resource manager
(:mod:`.service`), and the side-by-side comparison with llama.cpp (:mod:`.compare`).

The runtime, the SDK manager, the catalogs and bring-your-own-model live in :mod:`edgeagents.runtimes.foundry`.
"""
