/* startup.c - bare-metal start-up for Cortex-M3/M4/M7 on QEMU's MPS2 boards.

   Reset_Handler: enable the FPU (if built with one), copy .data from flash to RAM, zero
   .bss and .psram, open newlib's semihosting stdio (librdimon), build argc/argv from the
   QEMU command line (-append "..."), call main(), then exit(main's return value), which
   QEMU passes on as its own exit status (semihosting SYS_EXIT_EXTENDED).
   A fault or any unexpected exception prints the fault registers on QEMU's stderr and
   exits with status 99, so a broken program fails fast instead of locking up.
   Before main() the stack's reserved region (mps2.ld's STACK_SIZE below __stack_top) is
   painted with STACK_PAINT; stack_high_water() later finds the deepest word overwritten.

   Needs the symbols defined by mps2.ld. Link with --specs=rdimon.specs -nostartfiles. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);
void initialise_monitor_handles(void);      /* librdimon: opens stdin/stdout/stderr */

extern uint32_t __stack_top, __stack_limit; /* from the linker script */
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start__, __bss_end__, __psram_start, __psram_end;
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

#define FAULT_EXIT_STATUS 99
#define STACK_PAINT 0xC5AC5AC5u

size_t stack_high_water(void);              /* bytes of stack ever used; see below */
size_t heap_used(void);                     /* bytes newlib's malloc took (stdio buffers) */
void *_sbrk(ptrdiff_t incr);                /* librdimon: the heap starts at `end` */
extern char end;

/* ---- semihosting: BKPT 0xAB with the operation in r0 and its argument in r1 ---- */
#define SH_WRITE0        0x04                 /* print a NUL-terminated string */
#define SH_GET_CMDLINE   0x15
#define SH_EXIT          0x18
#define SH_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Exit QEMU with `status` (0..255 reach the host). Also used by newlib's exit(). */
void _exit(int status)
{
    uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)status };
    semihost(SH_EXIT_EXTENDED, block);
    /* Host without the extension: SYS_EXIT can only say success (0) or failure (1). */
    semihost(SH_EXIT, (void *)(status == 0 ? ADP_Stopped_ApplicationExit : 0x20023));
    for (;;) { }
}

/* newlib's exit() calls _fini (normally from crti.o, which -nostartfiles drops). */
void _fini(void) { }

/* ---- argc/argv from SYS_GET_CMDLINE: QEMU gives "<kernel> <-append text>" ---- */
#define CMDLINE_MAX 1024
#define ARGV_MAX 32
static char cmdline[CMDLINE_MAX];
static char *argv_buf[ARGV_MAX + 1];

static int get_args(void)
{
    struct { char *buf; int len; } block = { cmdline, CMDLINE_MAX - 1 };
    int argc = 0;
    if (semihost(SH_GET_CMDLINE, &block) != 0) block.len = 0;
    cmdline[block.len > 0 ? block.len : 0] = '\0';
    for (char *p = cmdline; *p && argc < ARGV_MAX; ) {      /* split on spaces */
        while (*p == ' ') *p++ = '\0';
        if (!*p) break;
        argv_buf[argc++] = p;
        while (*p && *p != ' ') p++;
    }
    argv_buf[argc] = 0;
    return argc;
}

/* ---- stack high-water mark: paint now, scan later ---- */
/* Fill [__stack_limit, sp - 64) with the pattern. Not inlined, so the 64 bytes below the
   caller's sp cover this function's own (leaf) frame. */
__attribute__((noinline)) static void paint_stack(void)
{
    uint32_t *p = &__stack_limit, *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while (p < sp - 16) *p++ = STACK_PAINT;
}

/* Bytes between __stack_top and the lowest word that no longer holds the pattern (an
   untouched word that happens to equal it makes this an underestimate by < 4 bytes). If the
   whole reserved region is used this returns STACK_SIZE: the stack may have overflowed. */
size_t stack_high_water(void)
{
    const uint32_t *p = &__stack_limit;
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (size_t)((const char *)&__stack_top - (const char *)p);
}

size_t heap_used(void)
{
    return (size_t)((char *)_sbrk(0) - &end);
}

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11, else the first FP instruction faults. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(&__data_start, &__data_load,
           (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    memset(&__psram_start, 0, (size_t)((char *)&__psram_end - (char *)&__psram_start));
    /* CCR.DIV_0_TRP: integer division by zero faults (as on the host) instead of giving 0. */
    *(volatile uint32_t *)0xE000ED14 |= 1u << 4;
    paint_stack();
    initialise_monitor_handles();
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
    int argc = get_args();
    exit(main(argc, argv_buf));
}

/* ---- faults: report CFSR/HFSR and the faulting PC, then leave QEMU ---- */
static char *put_hex(char *s, const char *label, uint32_t v)
{
    while (*label) *s++ = *label++;
    for (int i = 28; i >= 0; i -= 4) *s++ = "0123456789abcdef"[(v >> i) & 15];
    return s;
}

void fault_report(const uint32_t *frame, uint32_t ipsr)  /* frame: r0-r3 r12 lr pc xpsr */
{
    char msg[128], *s = msg;
    s = put_hex(s, "\n*** fault: exception ", ipsr & 0x1ff);
    s = put_hex(s, " pc ", frame[6]);
    s = put_hex(s, " cfsr ", *(volatile uint32_t *)0xE000ED28);
    s = put_hex(s, " hfsr ", *(volatile uint32_t *)0xE000ED2C);
    s = put_hex(s, " bfar ", *(volatile uint32_t *)0xE000ED38);
    *s++ = '\n';
    *s = '\0';
    semihost(SH_WRITE0, msg);                 /* QEMU prints it on its stderr */
    _exit(FAULT_EXIT_STATUS);
}

__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile(
        "tst   lr, #4      \n\t"    /* which stack held the exception frame? */
        "ite   eq          \n\t"
        "mrseq r0, msp     \n\t"
        "mrsne r0, psp     \n\t"
        "mrs   r1, ipsr    \n\t"
        "b     fault_report\n\t");
}

/* ---- vector table, placed at address 0 by the linker script ---- */
__attribute__((section(".vectors"), used))
static const uintptr_t vectors[16] = {
    (uintptr_t)&__stack_top,        /* initial MSP */
    (uintptr_t)Reset_Handler,
    (uintptr_t)Fault_Handler,       /* NMI */
    (uintptr_t)Fault_Handler,       /* HardFault */
    (uintptr_t)Fault_Handler,       /* MemManage */
    (uintptr_t)Fault_Handler,       /* BusFault */
    (uintptr_t)Fault_Handler,       /* UsageFault */
    0, 0, 0, 0,
    (uintptr_t)Fault_Handler,       /* SVCall */
    (uintptr_t)Fault_Handler,       /* DebugMonitor */
    0,
    (uintptr_t)Fault_Handler,       /* PendSV */
    (uintptr_t)Fault_Handler,       /* SysTick */
};
