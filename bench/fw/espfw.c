/*
 * A bare-metal driver for the SS-5's on-board ESP, run by the guest CPU.
 *
 * The qtest driver in bench/sun4m.py crosses a socket for every register
 * access; this one runs where a guest's driver runs. It takes its
 * commands from a mailbox in guest RAM, which the host fills through the
 * shared memory backend, and times each command with the SLAVIO system
 * counter, from the selection to the interrupt that ends it. Between
 * interrupts it halts the CPU through the APC, as Linux's idle loop does
 * on this machine. Register layouts are those of bench/sun4m.py. Between
 * the pieces of a split data phase it does not drain or flush ESPDMA as
 * Linux does: QEMU's ESPDMA has no FIFO to drain.
 */
#include "fw.h"

#define ESPDMA          0x78400000u
#define ESP             0x78800000u
#define APC             0x6a000000u

#define DMA_INTREN      0x10u
#define DMA_ERR_PEND    0x02u
#define DMA_RESET       0x80u
#define DMA_WRITE_MEM   0x100u
#define DMA_EN          0x200u

#define ESP_TCLO        0
#define ESP_TCMID       1
#define ESP_FIFO        2
#define ESP_CMD         3
#define ESP_STAT        4
#define ESP_BUSID       4
#define ESP_INTR        5
#define ESP_CFG1        8
#define ESP_CFG2        0xb
#define ESP_TCHI        0xe

#define CMD_DMA         0x80
#define CMD_FLUSH       0x01
#define CMD_RESET       0x02
#define CMD_TI          0x10
#define CMD_ICCS        0x11
#define CMD_MSGACC      0x12
#define CMD_SELATN      0x42
#define STAT_INT        0x80
#define STAT_PHASE      0x07
#define PHASE_ST        3

#define IRQ_SYSTIMER    (1u << 19)

/* The mailbox (fw.h); GuestESPDriver in bench/sun4m.py has the same layout */
#define MB_OP           0x0c    /* host: 0x28 READ(10) or 0x2a WRITE(10) */
#define MB_LBA          0x10
#define MB_LEN          0x14    /* bytes, whole sectors, at most 0xfffe00 */
#define MB_DVMA         0x18
#define MB_TARGET       0x1c
#define MB_TICKS        0x20    /* fw: the command's time, 500 ns periods */
#define MB_STATUS       0x24    /* fw: SCSI status, message, error (below) */
#define MB_PT           0x28    /* host: the IOMMU page table, 64 MiB window */
#define MB_CHUNK        0x2c    /* host: bytes per DMA programming, 0: all */
#define MB_SENTINEL     0x34    /* host: READ, a word no page end of the */
                                /* data holds; 0: no check (see below) */
#define MB_READY        0x45535046u

#define ERR_PHASE       1       /* an unexpected phase after selection */
#define ERR_DMA         2       /* ESPDMA reported an error */
#define ERR_LATE        3       /* status came before all the data */

static inline uint8_t esp_rd(int r)
{
    return *(volatile uint8_t *)(ESP + 4 * r);
}

static inline void esp_wr(int r, uint8_t v)
{
    *(volatile uint8_t *)(ESP + 4 * r) = v;
}

/* Sleep until the ESP (or ESPDMA) interrupts; 0, or ERR_DMA */
static int esp_wait(uint8_t *stat)
{
    for (;;) {
        *stat = esp_rd(ESP_STAT);
        if (*stat & STAT_INT) {
            esp_rd(ESP_INTR);
            return 0;
        }
        if (rd32(ESPDMA) & DMA_ERR_PEND) {
            return ERR_DMA;
        }
        /* halts unless an interrupt is pending, which ends the halt */
        *(volatile uint8_t *)APC = 1;
    }
}

/*
 * One command with an optional DMA data phase, programmed @chunk bytes at a
 * time (0: all at once), as Linux's esp_scsi programs one DMA per
 * scatter-gather entry. Returns status | msg << 8 | err << 16.
 */
static uint32_t esp_command(const uint8_t *cdb, int cdblen, uint32_t target,
                            uint32_t dvma, uint32_t count, uint32_t chunk,
                            int to_memory)
{
    uint8_t st, status, msg;
    int i, err;

    esp_wr(ESP_CMD, CMD_FLUSH);
    esp_wr(ESP_FIFO, 0x80);                 /* IDENTIFY */
    for (i = 0; i < cdblen; i++) {
        esp_wr(ESP_FIFO, cdb[i]);
    }
    esp_wr(ESP_BUSID, target);
    esp_wr(ESP_CMD, CMD_SELATN);
    err = esp_wait(&st);
    if (!err && (st & STAT_PHASE) != PHASE_ST) {
        if (!count || (st & STAT_PHASE) != (to_memory ? 1 : 0)) {
            return ERR_PHASE << 16;
        }
        wr32(ESPDMA, DMA_INTREN | DMA_EN | (to_memory ? DMA_WRITE_MEM : 0));
        do {
            uint32_t n = chunk && chunk < count ? chunk : count;

            wr32(ESPDMA + 4, dvma);
            esp_wr(ESP_TCLO, n);
            esp_wr(ESP_TCMID, n >> 8);
            esp_wr(ESP_TCHI, n >> 16);
            esp_wr(ESP_CMD, CMD_DMA | CMD_TI);
            err = esp_wait(&st);
            dvma += n;
            count -= n;
        } while (!err && count && (st & STAT_PHASE) != PHASE_ST);
        while (!err && (st & STAT_PHASE) != PHASE_ST) {
            err = esp_wait(&st);
        }
        wr32(ESPDMA, DMA_INTREN);
    }
    if (err) {
        return err << 16;
    }
    esp_wr(ESP_CMD, CMD_ICCS);
    err = esp_wait(&st);
    status = esp_rd(ESP_FIFO);
    msg = esp_rd(ESP_FIFO);
    esp_wr(ESP_CMD, CMD_MSGACC);
    if (!err) {
        err = esp_wait(&st);
    }
    return status | msg << 8 | err << 16;
}

/* The RAM behind DVMA @dvma, from the IOMMU page table (IOPTE: PA >> 4) */
static uint32_t dvma_to_ram(uint32_t dvma)
{
    uint32_t pte = rd32(mb(MB_PT) + ((dvma - DVMA_64MB) >> 12) * 4);

    return (pte & ~0xffu) << 4 | (dvma & 0xfff);
}

/*
 * The last word of each page of [@dvma, @dvma + @len): store @v there
 * (@set), else count the words still holding it. A READ stores the
 * sentinel before it starts and counts once its status is in: a device
 * that reported status before its data had landed leaves some behind.
 */
static uint32_t page_ends(uint32_t dvma, uint32_t len, uint32_t v, int set)
{
    uint32_t a, end = dvma + len, n = 0;

    for (a = dvma; a < end; a = (a | 0xfff) + 1) {
        uint32_t next = (a | 0xfff) + 1;
        uint32_t e = next < end ? next : end;
        uint32_t ra;

        if (e - a < 4) {
            continue;       /* no whole word of the buffer in this page */
        }
        ra = dvma_to_ram(e - 4);
        if (set) {
            wr32(ra, v);
        } else {
            n += rd32(ra) == v;
        }
    }
    return n;
}

static void esp_init(uint32_t target)
{
    uint8_t tur[6] = { 0 };
    int i;

    wr32(INTCTL_SYS + 0xc, IRQ_SYSTIMER);   /* only the ESP wakes us */
    wr32(ESPDMA, DMA_RESET);                /* a pulse, as Linux gives it */
    wr32(ESPDMA, 0);
    esp_wr(ESP_CMD, CMD_RESET);
    esp_wr(ESP_CFG1, 7);                    /* own SCSI id 7 */
    esp_wr(ESP_CFG2, 0x40);                 /* features: 24-bit counter */
    esp_rd(ESP_INTR);
    wr32(ESPDMA, DMA_INTREN);
    /* the first command after power-on reports UNIT ATTENTION */
    for (i = 0; i < 3; i++) {
        if (esp_command(tur, 6, target, 0, 0, 0, 0) == 0) {
            break;
        }
    }
}

void main(void)
{
    uint32_t n = 0;

    iommu_enable(mb(MB_PT));
    esp_init(mb(MB_TARGET));
    mb_set(MB_MAGIC, MB_READY);
    for (;;) {
        uint32_t op, lba, len, t0, t1, sentinel;
        uint8_t cdb[10];
        uint32_t r;

        n = next_job(n);
        op = mb(MB_OP);
        lba = mb(MB_LBA);
        len = mb(MB_LEN);
        cdb[0] = op;
        cdb[1] = 0;
        cdb[2] = lba >> 24;
        cdb[3] = lba >> 16;
        cdb[4] = lba >> 8;
        cdb[5] = lba;
        cdb[6] = 0;
        cdb[7] = (len >> 9) >> 8;
        cdb[8] = len >> 9;
        cdb[9] = 0;
        sentinel = op == 0x28 ? mb(MB_SENTINEL) : 0;
        if (sentinel) {
            page_ends(mb(MB_DVMA), len, sentinel, 1);
        }
        t0 = rd32(SYSCOUNTER);
        r = esp_command(cdb, 10, mb(MB_TARGET), mb(MB_DVMA), len, mb(MB_CHUNK),
                        op == 0x28);
        t1 = rd32(SYSCOUNTER);
        /* only a command that ended well must have moved all its data */
        if (sentinel && r == 0 && page_ends(mb(MB_DVMA), len, sentinel, 0)) {
            r |= ERR_LATE << 16;
        }
        mb_set(MB_TICKS, ticks(t0, t1));
        mb_set(MB_STATUS, r);
        mb_set(MB_DONE, n);
    }
}
