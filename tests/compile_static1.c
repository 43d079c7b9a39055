/* ARTR_STATIC: two translation units each with a private copy of the implementation
   link without clashing symbols (with compile_static2.c). */
#define ARTR_STATIC
#define ARTR_IMPLEMENTATION
#include "../artr.h"

int static2_main(void);

int main(void)
{
    artr_model *m = NULL;
    artr_status st = artr_model_load_memory(&m, "GGUF", 4, NULL, NULL);
    return (st == ARTR_E_FORMAT ? 0 : 1) + static2_main();
}
