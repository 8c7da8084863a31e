/*
 * Reset entry and trap table of the bench's bare-metal SS-5 firmware.
 *
 * The CPU starts in boot mode: instructions come from the PROM (this
 * image), data accesses go to physical addresses, the MMU is off. Traps
 * would vector through %tbr = 0, i.e. through this table; none is
 * expected, so every entry but reset reports its trap type and stops.
 */
#define STACK_TOP   0x00800000
#define MBOX_TRAP   0x00010040

    .section .text.start, "ax"
    .global _start
_start:
    b       reset
     nop
    nop
    nop
    .rept   255
    rd      %tbr, %l3
    b       trap
     nop
    nop
    .endr

reset:
    /*
     * Supervisor, traps on, PIL 15: an interrupt wakes a halted CPU but is
     * not taken (level 15, the non-maskable one, would trap, and stop us)
     */
    wr      %g0, 0xfa0, %psr
    nop
    nop
    nop
    wr      %g0, 0, %wim
    wr      %g0, 0, %tbr
    nop
    nop
    nop
    set     STACK_TOP - 96, %sp
    call    main
     nop
1:  b       1b
     nop

trap:
    srl     %l3, 4, %l3
    and     %l3, 0xff, %l3
    set     MBOX_TRAP, %l4
    st      %l3, [%l4]
1:  b       1b
     nop
