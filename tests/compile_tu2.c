/* The second translation unit: declarations only (see compile_tu1.c). */
#include "../artr.h"

int tu2_main(void);

int tu2_main(void)
{
    artr_model *m = NULL;
    artr_status st = artr_model_load_memory(&m, "GGUF", 4, NULL, NULL);
    return st == ARTR_E_FORMAT ? 0 : 1; /* a 4-byte file is a truncated header */
}
