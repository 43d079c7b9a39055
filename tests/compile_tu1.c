/* Two translation units: this one holds the implementation, compile_tu2.c only the API.
   Linked together they must give one definition of everything. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

int tu2_main(void);

int main(void)
{
    return tu2_main();
}
