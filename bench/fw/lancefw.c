/*
 * A bare-metal driver for the SS-5's on-board Lance, run by the guest CPU.
 *
 * Over qtest, each ring of frames costs a socket round trip as long as the
 * chip's work on the whole ring, so frames/s there measure the harness.
 * This driver hands the ring back to the chip and kicks it from the guest
 * CPU, as a guest's driver does, and times whole runs of rings with the
 * SLAVIO system counter.
 *
 * The host prepares everything in guest RAM before the CPU starts: the
 * IOMMU page table, the init block, both rings with the ownership bits
 * clear, and the frames in the transmit buffers (bench/lance.py). The
 * firmware programs the IOMMU, LEDMA and the chip, then runs what the
 * mailbox asks: a number of rounds, each of which hands every transmit
 * descriptor to the chip, writes TDMD, waits until the chip has handed
 * the last one back and reads them all back, as a driver's completion
 * handler does. A descriptor that comes back with OWN or ERR set ends
 * the run, and the host refuses it. Interrupts stay off: the chip is polled.
 */
#include "fw.h"

#define LEDMA           0x78400010u
#define LANCE           0x78c00000u     /* RDP at +0, RAP at +2 */

/*
 * The IOMMU reports a fault as a module error, at level 15, which the
 * processor takes even at PIL 15; only this bit keeps it from the CPU.
 */
#define IRQ_MASTER_DISABLE (1u << 31)

#define DMA_INTREN      0x10u
#define LEDMA_ADDR_HI   0x0c

#define CSR0_INIT       0x0001
#define CSR0_STRT       0x0002
#define CSR0_STOP       0x0004
#define CSR0_TDMD       0x0008
#define CSR0_IDON       0x0100
#define CSR0_TINT       0x0200

#define DESC_OWN        0x8000
#define DESC_ERR        0x4000
#define DESC_STP        0x0200
#define DESC_ENP        0x0100

/* The mailbox (fw.h); GuestLance in bench/sun4m.py has the same layout */
#define MB_ROUNDS       0x0c    /* host: rings per run */
#define MB_NDESC        0x10    /* host: descriptors per ring */
#define MB_TXRING       0x14    /* host: physical address of the tx ring */
#define MB_TICKS        0x18    /* fw: the run's time, 500 ns periods */
#define MB_BAD          0x1c    /* fw: descriptors that came back wrong in */
                                /* the round that ended the run early */
#define MB_PT           0x20    /* host: the IOMMU page table, 64 MiB window */
#define MB_IB           0x24    /* host: the init block, Lance address */
#define MB_DVMA_HI      0x28    /* host: LEDMA's high address register */
#define MB_CSR3         0x2c    /* host: bus mode (BSWP, ACON, BCON) */
#define MB_READY        0x4c4e4346u
#define MB_NO_IDON      0x4e4f4944u     /* fw, in MB_MAGIC: INIT failed */

/* how long to poll for the chip, in reads of one of its registers */
#define POLL_LIMIT      10000000u

static void csr(int n, uint16_t v)
{
    wr16(LANCE + 2, n);
    wr16(LANCE, v);
}

/*
 * Hand the @n transmit descriptors at @ring to the chip, each for a whole
 * frame. Word 1 of a descriptor holds the flags and the buffer's address
 * bits 23:16, which the chip leaves alone.
 */
static void arm(uint32_t ring, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        uint32_t w1 = ring + 8 * i + 2;

        wr16(w1, (rd16(w1) & 0xff) | DESC_OWN | DESC_STP | DESC_ENP);
    }
}

/* How many of the @n descriptors at @ring the chip did not hand back clean */
static uint32_t check(uint32_t ring, uint32_t n)
{
    uint32_t i, bad = 0;

    for (i = 0; i < n; i++) {
        bad += !!(rd16(ring + 8 * i + 2) & (DESC_OWN | DESC_ERR));
    }
    return bad;
}

static int lance_init(void)
{
    uint32_t i;

    wr32(LEDMA + LEDMA_ADDR_HI, mb(MB_DVMA_HI));
    wr32(LEDMA, DMA_INTREN);
    csr(0, CSR0_STOP);
    csr(3, mb(MB_CSR3));
    csr(1, mb(MB_IB) & 0xffff);
    csr(2, mb(MB_IB) >> 16);
    csr(0, CSR0_INIT);
    for (i = 0; i < POLL_LIMIT; i++) {
        if (rd16(LANCE) & CSR0_IDON) {
            csr(0, CSR0_IDON | CSR0_STRT);
            return 0;
        }
    }
    return -1;
}

void main(void)
{
    uint32_t n = 0;

    /* polled: a fault shows in the descriptors, and ends the run */
    wr32(INTCTL_SYS + 0xc, IRQ_MASTER_DISABLE);
    iommu_enable(mb(MB_PT));
    if (lance_init()) {
        mb_set(MB_MAGIC, MB_NO_IDON);
        for (;;) {
        }
    }
    mb_set(MB_MAGIC, MB_READY);
    for (;;) {
        uint32_t r, rounds, ndesc, tx, last, bad = 0, t0, t1;

        n = next_job(n);
        rounds = mb(MB_ROUNDS);
        ndesc = mb(MB_NDESC);
        tx = mb(MB_TXRING);
        last = tx + 8 * (ndesc - 1) + 2;
        /* RAP stays on CSR0 from here on */
        wr16(LANCE + 2, 0);
        t0 = rd32(SYSCOUNTER);
        for (r = 0; r < rounds; r++) {
            uint32_t i;

            arm(tx, ndesc);
            wr16(LANCE, CSR0_TINT | CSR0_TDMD);
            for (i = 0; i < POLL_LIMIT && (rd16(last) & DESC_OWN); i++) {
                /* QEMU's Lance sends the ring before the write returns */
            }
            /* what a driver's completion handler reads */
            bad = check(tx, ndesc);
            if (bad) {
                break;          /* the chip stopped, or will not send */
            }
        }
        t1 = rd32(SYSCOUNTER);
        mb_set(MB_TICKS, ticks(t0, t1));
        mb_set(MB_BAD, bad);
        mb_set(MB_DONE, n);
    }
}
