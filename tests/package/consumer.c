/* A tiny artr consumer, built by `make test-package` through CMake (add_subdirectory and
   find_package after `make install`) and through pkg-config. */
#define ARTR_IMPLEMENTATION
#include <artr.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    artr_model *m = NULL;
    artr_error err;
    if (argc != 2) {
        fprintf(stderr, "usage: consumer MODEL.gguf\n");
        return 2;
    }
    if (artr_model_load_file(&m, argv[1], NULL, &err) != ARTR_OK) {
        fprintf(stderr, "consumer: %s\n", err.msg);
        return 1;
    }
    printf("artr %d: %d layers, vocab %d\n", ARTR_VERSION, artr_model_config(m)->n_layer,
           artr_model_config(m)->n_vocab);
    artr_model_free(m);
    return 0;
}
