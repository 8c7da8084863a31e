/*
 * What the bench's bare-metal firmwares share: register and mailbox
 * access, the IOMMU set-up, the handshake with the host and the clock.
 */
#ifndef BENCH_FW_H
#define BENCH_FW_H

#include <stdint.h>

#define IOMMU           0x10000000u
#define SYSCOUNTER      0x71d10004u     /* system counter, counter register */
#define INTCTL_SYS      0x71e10000u     /* system interrupt mask registers */

#define IOMMU_CTRL      0x00
#define IOMMU_BASE      0x04
#define IOMMU_TLBFLUSH  0x14
#define IOMMU_RNGE_64MB 0x08
#define IOMMU_ENAB      0x01
#define DVMA_64MB       0xfc000000u     /* the window IOMMU_RNGE_64MB opens */

/*
 * The mailbox, big-endian words. It must not share a page with the code:
 * with the MMU off, QEMU keeps one TLB entry per page for both instruction
 * fetches (PROM) and data accesses (RAM), so a store there would redirect
 * the fetches. Each firmware has these words, and its own in between.
 */
#define MBOX            0x00010000u
#define MB_MAGIC        0x00    /* fw: its ready value once initialised */
#define MB_GO           0x04    /* host: number of the job to do */
#define MB_DONE         0x08    /* fw: number of the last job done */
#define MB_RUNS         0x30    /* fw: jobs started so far */

static inline uint32_t rd32(uint32_t a)
{
    return *(volatile uint32_t *)a;
}

static inline void wr32(uint32_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

static inline uint16_t rd16(uint32_t a)
{
    return *(volatile uint16_t *)a;
}

static inline void wr16(uint32_t a, uint16_t v)
{
    *(volatile uint16_t *)a = v;
}

static inline uint32_t mb(int off)
{
    return rd32(MBOX + off);
}

static inline void mb_set(int off, uint32_t v)
{
    wr32(MBOX + off, v);
}

/* Translate the 64 MiB DVMA window through the page table at @pt */
static inline void iommu_enable(uint32_t pt)
{
    wr32(IOMMU + IOMMU_BASE, pt >> 4);
    wr32(IOMMU + IOMMU_CTRL, IOMMU_RNGE_64MB | IOMMU_ENAB);
    wr32(IOMMU + IOMMU_TLBFLUSH, 0);
}

/* Wait until the host asks for job @n + 1, count it, and return @n + 1 */
static inline uint32_t next_job(uint32_t n)
{
    while (mb(MB_GO) != n + 1) {
        /* the host checks what the last job did */
    }
    mb_set(MB_RUNS, mb(MB_RUNS) + 1);
    return n + 1;
}

/* 500 ns periods between two reads of the system counter (bits 30:9) */
static inline uint32_t ticks(uint32_t t0, uint32_t t1)
{
    return ((t1 - t0) & 0x7ffffe00u) >> 9;
}

#endif
