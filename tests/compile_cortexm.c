/* Build-only check for a Cortex-M4 (arm-none-eabi-gcc, ARTR_NO_STDIO, ARTR_NO_MALLOC):
   a model from a const array in flash, its tables in one static buffer. The Makefile
   then proves with nm that the object references no malloc, free, fopen or printf.
   check-riscv builds the same file for RV32IMAFC. */
#define ARTR_NO_STDIO
#define ARTR_NO_MALLOC
#define ARTR_IMPLEMENTATION
#include "../artr.h"

extern const unsigned char model_gguf[];
extern const unsigned int model_gguf_len;

static unsigned char arena[64 * 1024];

int firmware_load(int *n_layer);

int firmware_load(int *n_layer)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    size_t need = 0;
    memset(&p, 0, sizeof p);
    if (artr_model_bytes(model_gguf, model_gguf_len, &p, &need, &err) != ARTR_OK) return -1;
    if (need > sizeof arena) return -2;
    p.mem = arena;
    p.mem_size = sizeof arena;
    p.no_copy = 1; /* weights stay in flash */
    if (artr_model_load_memory(&m, model_gguf, model_gguf_len, &p, &err) != ARTR_OK) return -3;
    *n_layer = artr_model_config(m)->n_layer;
    artr_model_free(m);
    return 0;
}
