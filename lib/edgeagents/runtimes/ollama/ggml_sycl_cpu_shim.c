/*
 * A stand-in for libggml-sycl.so in Intel's IPEX-LLM build of Ollama (PyPI bigdl-core-cpp).
 *
 * That build's Go code always asks ggml for its SYCL (Intel GPU) backend through exactly three
 * functions. On a machine without an Intel GPU the real library aborts, so this file provides the
 * same three functions and hands back ggml's own CPU backend instead. Everything else (model
 * loading, the scheduler, the CPU kernels in libggml-cpu-*.so) is the unmodified build.
 *
 * Built by `python -m edgeagents.ollama.install` (make ollama-server) with:  gcc -O2 -shared -fPIC -o libggml-sycl.so THIS.c
 * It needs no headers: the ggml types are opaque pointers, resolved at run time from libggml*.so.
 */
#include <stddef.h>

typedef void *ggml_backend_t;
typedef void *ggml_backend_dev_t;
typedef void *ggml_backend_buffer_type_t;

/* from libggml.so / libggml-base.so (already loaded by the ollama binary) */
enum { GGML_BACKEND_DEVICE_TYPE_CPU = 0 };
extern ggml_backend_t ggml_backend_init_by_type(int type, const char *params);
extern ggml_backend_dev_t ggml_backend_dev_by_type(int type);
extern ggml_backend_buffer_type_t ggml_backend_dev_buffer_type(ggml_backend_dev_t device);

/* one "device": the CPU */
int ggml_backend_sycl_get_device_count(void) { return 1; }

ggml_backend_t ggml_backend_sycl_init(int device) {
    (void)device;
    return ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, NULL);
}

ggml_backend_buffer_type_t ggml_backend_sycl_buffer_type(int device) {
    (void)device;
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    return cpu ? ggml_backend_dev_buffer_type(cpu) : NULL;
}
