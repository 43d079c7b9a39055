/* Build-and-run check for artr-bin2c: the arrays it generated from two fixtures (make puts
   them in build/bin2c_fixtures.c) load with artr_model_load_memory and params.no_copy = 1,
   so every tensor is used in place. Compiled as C99 (GNU attribute), C11 (_Alignas) and
   C++ (alignas). */
#define ARTR_IMPLEMENTATION
#include "../artr.h"
#include "bin2c_fixtures.c"

#include <stdio.h>
#include <string.h>

static int check(const unsigned char *data, size_t size, unsigned align, int container, const char *what)
{
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    artr_tensor t;
    int i, n, ok = 1;
    memset(&p, 0, sizeof p);
    p.no_copy = 1;
    p.container = container;
    if ((uintptr_t)data % align) {
        printf("bin2c: %s: array at %p is not aligned to %u\n", what, (const void *)data, align);
        return 0;
    }
    if (artr_model_load_memory(&m, data, size, &p, &err) != ARTR_OK) {
        printf("bin2c: %s: %s\n", what, err.msg);
        return 0;
    }
    n = artr_model_tensor_count(m);
    for (i = 0; i < n; i++) {
        artr_model_tensor_at(m, i, &t, NULL);
        if ((const unsigned char *)t.data < data || (const unsigned char *)t.data + t.n_bytes > data + size)
            ok = 0; /* not in place */
    }
    if (!ok) printf("bin2c: %s: a tensor is not inside the array\n", what);
    artr_model_free(m);
    return ok;
}

int main(void)
{
    int ok = check(bin2c_llama, bin2c_llama_len, 32, 0, "llama.gguf") &&
             check(bin2c_meta, bin2c_meta_len, 64, 1, "meta.gguf (alignment 64)");
    if (ok) printf("bin2c: arrays aligned, loaded in place with no_copy\n");
    return ok ? 0 : 1;
}
