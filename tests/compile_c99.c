/* Build-only check: the header as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror),
   also with ARTR_NO_FAILURE_STRINGS and ARTR_NO_MMAP. Never run. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"
#include "../artr.h" /* including twice is harmless */

int main(void)
{
    artr_model *m = NULL;
    artr_error err;
    artr_status st = artr_model_load_memory(&m, "GGUF", 4, NULL, &err);
    artr_model_free(m);
    return st == ARTR_OK;
}
