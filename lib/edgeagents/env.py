"""Probes of the machine itself (GPUs for now), shared by the doctor, the runtimes and monitoring.

Nothing here imports the rest of the library, so any module may ask what the machine has.
"""

from __future__ import annotations


def nvidia_gpus() -> list[str]:
    """Names and memory of NVIDIA GPUs (via nvidia-ml-py when installed)."""
    try:
        import pynvml  # from nvidia-ml-py
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle).total / 2**30
            gpus.append(f"{name.decode() if isinstance(name, bytes) else name} ({mem:.0f} GiB)")
        pynvml.nvmlShutdown()
        return gpus
    except Exception:
        return []
