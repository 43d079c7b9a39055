// Build-only check: the header as C++ (g++ -Wall -Wextra -pedantic -Werror). Never run.
#define ARTR_IMPLEMENTATION
#include "../artr.h"

int main()
{
    artr_model *m = nullptr;
    artr_model_params p = {};
    artr_error err;
    p.container = 1;
    artr_status st = artr_model_load_memory(&m, "GGUF", 4, &p, &err);
    artr_model_free(m);
    return st == ARTR_OK ? 0 : 1;
}
