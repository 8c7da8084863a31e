/*
 * dma-rw demo guest: a freestanding /init for sparc32 and sparc64 Linux.
 *
 * Debian has no sparc32 libc, so this talks to the kernel with raw system
 * calls (ta 0x10 on sparc32, ta 0x6d on sparc64; number in %g1, carry set
 * on error; the numbers this uses are the same on both). It exercises the
 * disk and network DMA paths of a sun4m (ESP SCSI, Lance) or sun4u (cmd646
 * IDE, happymeal) machine, checks what it can and prints one line per check
 * for the host to verify:
 *
 *   dma-rw: <check> bytes=<n> crc=<crc32> us=<time> MB/s=<rate> PASS|FAIL
 *
 * Parameters come from the kernel command line (/proc/cmdline; sparc32 keeps
 * only 255 characters of it, so they are terse):
 *   dmarw.data=BYTES,CRC      size and CRC-32 of the data disk (SCSI target 1)
 *   dmarw.reads=LIST          data-disk reads to do: direct,buffered
 *   dmarw.scratch=BYTES       how much of the scratch disk (target 2) to write
 *   dmarw.disks=H:C:T:L,H:C:T:L  the data and scratch disks' SCSI addresses,
 *                             if not 0:0:1:0 and 0:0:2:0 (libata puts each
 *                             IDE channel on a SCSI host of its own)
 *   dmarw.net=PORT,TX,RX,CRC  host TCP port (the guest connects to 10.0.2.2),
 *                             guest->host and host->guest sizes, and the
 *                             CRC-32 of what the host sends
 * Numbers are decimal, or hex with 0x.
 *
 * Patterns are xorshift32 streams, each 32-bit state written little endian;
 * the host generates the same streams independently.
 */

typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned char u8;

#define NR_exit           1
#define NR_read           3
#define NR_write          4
#define NR_open           5
#define NR_close          6
#define NR_ioctl         54
#define NR_reboot        55
#define NR_fsync         95
#define NR_socket        97
#define NR_connect       98
#define NR_accept        99
#define NR_shutdown     134
#define NR_mkdir        136
#define NR_getdents64   154
#define NR_mount        167
#define NR_clock_gettime 257
#define NR_bind         353
#define NR_listen       354
#define NR_setsockopt   355

#define O_RDONLY    0
#define O_WRONLY    1
#define O_RDWR      2
#define O_DIRECTORY 0x10000
#define O_DIRECT    0x100000
#define O_SYNC      0x802000

#define AF_INET     2
#define SOCK_STREAM 1
#define SOL_SOCKET  0xffff
#define SO_REUSEADDR 0x0004
#define SHUT_WR     1

#define SIOCGIFFLAGS   0x8913
#define SIOCSIFFLAGS   0x8914
#define SIOCSIFADDR    0x8916
#define SIOCSIFNETMASK 0x891c
#define IFF_UP         0x1

#define CLOCK_MONOTONIC 1

#define BLOCK (1024 * 1024)

static u8 buf[BLOCK] __attribute__((aligned(4096)));
static u8 buf2[BLOCK] __attribute__((aligned(4096)));
static char cmdline[4096];

/* ---- system calls ---------------------------------------------------- */

/* the system call trap, and the branch on its carry (clear: success) */
#ifdef __arch64__
#define SYSCALL_TRAP "ta 0x6d"
#define SYSCALL_BCC  "bcc,pt %%xcc,"
#else
#define SYSCALL_TRAP "ta 0x10"
#define SYSCALL_BCC  "bcc"
#endif

static long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long g1 __asm__("g1") = n;
    register long o0 __asm__("o0") = a;
    register long o1 __asm__("o1") = b;
    register long o2 __asm__("o2") = c;
    register long o3 __asm__("o3") = d;
    register long o4 __asm__("o4") = e;
    register long o5 __asm__("o5") = f;

    __asm__ volatile(SYSCALL_TRAP "\n\t"
                     SYSCALL_BCC " 1f\n\t"
                     " nop\n\t"
                     "sub %%g0, %%o0, %%o0\n"
                     "1:"
                     : "+r"(o0), "+r"(o1), "+r"(g1)
                     : "r"(o2), "r"(o3), "r"(o4), "r"(o5)
                     : "memory", "cc");
    return o0;
}

/* sys(nr, args...): up to six arguments, the rest are zero */
#define SYSCALL_(n, a, b, c, d, e, f, ...) \
    syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define sys(...) SYSCALL_(__VA_ARGS__, 0, 0, 0, 0, 0, 0)

/* ---- output ---------------------------------------------------------- */

static u32 slen(const char *s)
{
    u32 n = 0;

    while (s[n]) {
        n++;
    }
    return n;
}

static void puts1(const char *s)
{
    sys(NR_write, 1, s, slen(s));
}

static void putu(u32 v)
{
    char b[12];
    int i = sizeof(b) - 1;

    b[i] = 0;
    do {
        b[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    puts1(b + i);
}

static void putx(u32 v)
{
    char b[9];
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    b[8] = 0;
    puts1(b);
}

static int failures;
static int checks;

/* ---- helpers --------------------------------------------------------- */

static u32 crc_table[256];

static void crc_init(void)
{
    u32 i, j, c;

    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++) {
            c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
}

/* zlib-compatible CRC-32; start with crc = 0 */
static u32 crc32(u32 crc, const u8 *p, u32 len)
{
    crc = ~crc;
    while (len--) {
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static void pattern(u32 *state, u8 *p, u32 len)
{
    u32 x = *state;

    for (; len >= 4; len -= 4, p += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[0] = x;
        p[1] = x >> 8;
        p[2] = x >> 16;
        p[3] = x >> 24;
    }
    *state = x;
}

static int memeq(const void *a, const void *b, u32 n)
{
    const u8 *x = a, *y = b;

    while (n--) {
        if (*x++ != *y++) {
            return 0;
        }
    }
    return 1;
}

static void memset0(void *p, u32 n)
{
    u8 *q = p;

    while (n--) {
        *q++ = 0;
    }
}

/* microseconds from CLOCK_MONOTONIC, wraps after 71 minutes */
static u32 now_us(void)
{
    long ts[2];

    sys(NR_clock_gettime, CLOCK_MONOTONIC, ts);
    return (u32)ts[0] * 1000000u + (u32)ts[1] / 1000u;
}

/* look for "key=" in the kernel command line */
static const char *param(const char *key)
{
    u32 n = slen(key);
    const char *p = cmdline;

    while (*p) {
        if ((p == cmdline || p[-1] == ' ') && memeq(p, key, n) && p[n] == '=') {
            return p + n + 1;
        }
        p++;
    }
    return 0;
}

/* "key=N,N,..." into @v (zeroed first); returns how many were found */
static int param_nums(const char *key, u32 *v, int max)
{
    const char *p = param(key);
    int i;

    for (i = 0; i < max; i++) {
        v[i] = 0;
    }
    for (i = 0; p && i < max; i++) {
        u32 base = 10;

        if (p[0] == '0' && p[1] == 'x') {
            base = 16;
            p += 2;
        }
        for (;; p++) {
            u32 d;

            if (*p >= '0' && *p <= '9') {
                d = *p - '0';
            } else if (base == 16 && *p >= 'a' && *p <= 'f') {
                d = *p - 'a' + 10;
            } else {
                break;
            }
            v[i] = v[i] * base + d;
        }
        if (*p++ != ',') {
            return i + 1;
        }
    }
    return i;
}

/* MB/s with one decimal, MB = 10^6 bytes; hard-float divides, no libgcc */
static void report(const char *name, u32 bytes, u32 crc, u32 us, int ok)
{
    double rate = us ? (double)bytes / (double)us : 0;
    int r10 = (int)(rate * 10.0 + 0.5);

    puts1("dma-rw: ");
    puts1(name);
    puts1(" bytes=");
    putu(bytes);
    puts1(" crc=");
    putx(crc);
    puts1(" us=");
    putu(us);
    puts1(" MB/s=");
    putu(r10 / 10);
    puts1(".");
    putu(r10 % 10);
    puts1(ok ? " PASS\n" : " FAIL\n");
    checks++;
    failures += !ok;
}

static void fail(const char *name, const char *why, long err)
{
    puts1("dma-rw: ");
    puts1(name);
    puts1(" error: ");
    puts1(why);
    puts1(" ");
    putu(-err);
    puts1(" FAIL\n");
    checks++;
    failures++;
}

/* ---- disks ----------------------------------------------------------- */

static char devpath[64];

/* /dev/sdX of the SCSI disk at @hctl ("H:C:T:L", up to a comma or blank) */
static const char *scsi_disk(const char *hctl)
{
    static const char pre[] = "/sys/bus/scsi/devices/";
    char dir[64];
    char ents[512];
    long fd, n, off;
    u32 i, j;

    for (i = 0; pre[i]; i++) {
        dir[i] = pre[i];
    }
    for (j = 0; hctl[j] && hctl[j] != ',' && hctl[j] != ' ' && hctl[j] != '\n' &&
                j < 16; j++) {
        dir[i++] = hctl[j];
    }
    for (j = 0; "/block"[j]; j++) {
        dir[i++] = "/block"[j];
    }
    dir[i] = 0;
    fd = sys(NR_open, dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return 0;
    }
    n = sys(NR_getdents64, fd, ents, sizeof(ents));
    sys(NR_close, fd);
    for (off = 0; off < n;) {
        /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
        u8 *d = (u8 *)ents + off;
        u32 reclen = d[16] << 8 | d[17];
        char *name = (char *)d + 19;

        if (name[0] != '.') {
            u32 i;

            for (i = 0; name[i] && i < 32; i++) {
                devpath[5 + i] = name[i];
            }
            devpath[5 + i] = 0;
            devpath[0] = '/';
            devpath[1] = 'd';
            devpath[2] = 'e';
            devpath[3] = 'v';
            devpath[4] = '/';
            return devpath;
        }
        off += reclen;
    }
    return 0;
}

static void drop_caches(void)
{
    long fd = sys(NR_open, "/proc/sys/vm/drop_caches", O_WRONLY);

    if (fd >= 0) {
        sys(NR_write, fd, "3\n", 2);
        sys(NR_close, fd);
    }
}

/* read @total bytes of @dev in @chunk pieces; time only the reads */
static void read_disk(const char *name, const char *dev, int flags, u32 chunk,
                      u32 total, u32 want_crc)
{
    u32 done = 0, crc = 0, us = 0;
    long fd, n;

    drop_caches();
    fd = sys(NR_open, dev, O_RDONLY | flags);
    if (fd < 0) {
        fail(name, "open", fd);
        return;
    }
    while (done < total) {
        u32 t0 = now_us();
        u32 want = total - done < chunk ? total - done : chunk;

        n = sys(NR_read, fd, buf, want);
        us += now_us() - t0;
        if (n <= 0) {
            sys(NR_close, fd);
            fail(name, "read", n);
            return;
        }
        crc = crc32(crc, buf, n);
        done += n;
    }
    sys(NR_close, fd);
    report(name, done, crc, us, crc == want_crc);
}

/* write the xorshift pattern to @dev, then read it back with O_DIRECT */
static void scratch_disk(const char *dev, u32 total)
{
    u32 state = 1, done, wcrc = 0, rcrc = 0, us, t0;
    long fd, n;
    int same = 1;

    fd = sys(NR_open, dev, O_RDWR | O_DIRECT);
    if (fd < 0) {
        fail("scratch-write", "open", fd);
        return;
    }
    us = 0;
    for (done = 0; done < total; done += BLOCK) {
        pattern(&state, buf, BLOCK);
        wcrc = crc32(wcrc, buf, BLOCK);
        t0 = now_us();
        n = sys(NR_write, fd, buf, BLOCK);
        us += now_us() - t0;
        if (n != BLOCK) {
            sys(NR_close, fd);
            fail("scratch-write", "write", n);
            return;
        }
    }
    t0 = now_us();
    sys(NR_fsync, fd);
    us += now_us() - t0;
    sys(NR_close, fd);
    report("scratch-write", total, wcrc, us, 1);

    drop_caches();
    fd = sys(NR_open, dev, O_RDONLY | O_DIRECT);
    state = 1;
    us = 0;
    for (done = 0; fd >= 0 && done < total; done += BLOCK) {
        t0 = now_us();
        n = sys(NR_read, fd, buf, BLOCK);
        us += now_us() - t0;
        if (n != BLOCK) {
            fail("scratch-read", "read", n);
            sys(NR_close, fd);
            return;
        }
        pattern(&state, buf2, BLOCK);
        same &= memeq(buf, buf2, BLOCK);
        rcrc = crc32(rcrc, buf, BLOCK);
    }
    if (fd < 0) {
        fail("scratch-read", "open", fd);
        return;
    }
    sys(NR_close, fd);
    report("scratch-read", total, rcrc, us, same && rcrc == wcrc);
}

/* ---- network --------------------------------------------------------- */

struct sockaddr_in {
    unsigned short family;
    unsigned short port;        /* big endian, like the guest */
    u32 addr;
    u8 zero[8];
};

struct ifreq {
    char name[16];
    union {
        struct sockaddr_in addr;
        short flags;
        u8 pad[24];
    } u;
};

static void ifreq_addr(struct ifreq *r, u32 addr)
{
    memset0(r, sizeof(*r));
    r->name[0] = 'e';
    r->name[1] = 't';
    r->name[2] = 'h';
    r->name[3] = '0';
    r->u.addr.family = AF_INET;
    r->u.addr.addr = addr;
}

#define IP(a, b, c, d) ((u32)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static int net_up(void)
{
    struct ifreq r;
    long s = sys(NR_socket, AF_INET, SOCK_STREAM, 0);
    long err;

    if (s < 0) {
        fail("net-up", "socket", s);
        return 0;
    }
    ifreq_addr(&r, IP(10, 0, 2, 15));
    err = sys(NR_ioctl, s, SIOCSIFADDR, &r);
    if (!err) {
        ifreq_addr(&r, IP(255, 255, 255, 0));
        err = sys(NR_ioctl, s, SIOCSIFNETMASK, &r);
    }
    if (!err) {
        ifreq_addr(&r, 0);
        err = sys(NR_ioctl, s, SIOCGIFFLAGS, &r);
        r.u.flags |= IFF_UP;
        err = err ? err : sys(NR_ioctl, s, SIOCSIFFLAGS, &r);
    }
    sys(NR_close, s);
    if (err) {
        fail("net-up", "ioctl", err);
        return 0;
    }
    puts1("dma-rw: net-up eth0 10.0.2.15/24 PASS\n");
    checks++;
    return 1;
}

static long tcp_listen(unsigned short port)
{
    struct sockaddr_in a;
    long s = sys(NR_socket, AF_INET, SOCK_STREAM, 0);
    int one = 1;

    memset0(&a, sizeof(a));
    a.family = AF_INET;
    a.port = port;
    sys(NR_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s < 0 || sys(NR_bind, s, &a, sizeof(a)) || sys(NR_listen, s, 1)) {
        return -1;
    }
    return s;
}

static int hexval(const char *p, u32 *v)
{
    int i;

    *v = 0;
    for (i = 0; i < 8; i++) {
        u32 d;

        if (p[i] >= '0' && p[i] <= '9') {
            d = p[i] - '0';
        } else if (p[i] >= 'a' && p[i] <= 'f') {
            d = p[i] - 'a' + 10;
        } else {
            return 0;
        }
        *v = *v << 4 | d;
    }
    return 1;
}

/* send the pattern to the host peer, which answers with its CRC in hex */
static void tcp_tx(unsigned short port, u32 total)
{
    struct sockaddr_in a;
    u32 state = 2, done, crc = 0, peer = 0, t0, us, got = 0;
    long s = sys(NR_socket, AF_INET, SOCK_STREAM, 0);
    long n;

    memset0(&a, sizeof(a));
    a.family = AF_INET;
    a.port = port;
    a.addr = IP(10, 0, 2, 2);
    n = sys(NR_connect, s, &a, sizeof(a));
    if (n) {
        fail("tcp-tx", "connect", n);
        sys(NR_close, s);
        return;
    }
    t0 = now_us();
    for (done = 0; done < total;) {
        u32 len = total - done < 65536 ? total - done : 65536;
        u32 off;

        pattern(&state, buf, len);
        crc = crc32(crc, buf, len);
        for (off = 0; off < len; off += n) {
            n = sys(NR_write, s, buf + off, len - off);
            if (n <= 0) {
                fail("tcp-tx", "write", n);
                sys(NR_close, s);
                return;
            }
        }
        done += len;
    }
    sys(NR_shutdown, s, SHUT_WR);
    while (got < 8 && (n = sys(NR_read, s, buf + got, 8 - got)) > 0) {
        got += n;
    }
    us = now_us() - t0;
    sys(NR_close, s);
    report("tcp-tx", total, crc, us, got == 8 && hexval((char *)buf, &peer)
           && peer == crc);
}

/* receive the host's pattern on the listening socket */
static void tcp_rx(long ls, u32 total, u32 want_crc)
{
    u32 crc = 0, done = 0, t0, us;
    long s = sys(NR_accept, ls, 0, 0);
    long n;

    if (s < 0) {
        fail("tcp-rx", "accept", s);
        return;
    }
    t0 = now_us();
    while ((n = sys(NR_read, s, buf, BLOCK)) > 0) {
        crc = crc32(crc, buf, n);
        done += n;
    }
    us = now_us() - t0;
    sys(NR_close, s);
    if (n < 0) {
        fail("tcp-rx", "read", n);
    }
    report("tcp-rx", done, crc, us, n == 0 && done == total && crc == want_crc);
}

/* eth0's line of /proc/net/dev, for the host to check the error counts */
static void net_stats(void)
{
    static char text[2048];
    long fd = sys(NR_open, "/proc/net/dev", O_RDONLY);
    long n = fd >= 0 ? sys(NR_read, fd, text, sizeof(text) - 1) : -1;
    char *p, *e;

    if (fd >= 0) {
        sys(NR_close, fd);
    }
    text[n > 0 ? n : 0] = 0;
    for (p = text; *p; p++) {
        if (p[0] == 'e' && p[1] == 't' && p[2] == 'h' && p[3] == '0' &&
            p[4] == ':') {
            for (e = p; *e && *e != '\n'; e++) {
            }
            *e = 0;
            puts1("dma-rw: net-stats ");
            puts1(p);
            puts1("\n");
            return;
        }
    }
    fail("net-stats", "no eth0 in /proc/net/dev", n);
}

/* ---- main ------------------------------------------------------------ */

static int has(const char *list, const char *word)
{
    u32 n = slen(word);

    for (; list && *list && *list != ' '; list++) {
        if ((list[-1] == '=' || list[-1] == ',') && memeq(list, word, n)
            && (list[n] == ',' || list[n] == ' ' || list[n] == 0
                || list[n] == '\n')) {
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    const char *reads, *disks;
    const char *dev;
    long fd, n;
    u32 v[4];

    puts1("dma-rw: init started\n");
    crc_init();
    sys(NR_mkdir, "/proc", 0555);
    sys(NR_mkdir, "/sys", 0555);
    sys(NR_mount, "proc", "/proc", "proc", 0, 0);
    sys(NR_mount, "sysfs", "/sys", "sysfs", 0, 0);

    fd = sys(NR_open, "/proc/cmdline", O_RDONLY);
    n = fd >= 0 ? sys(NR_read, fd, cmdline, sizeof(cmdline) - 1) : 0;
    cmdline[n > 0 ? n : 0] = 0;
    sys(NR_close, fd);

    reads = param("dmarw.reads");
    if (!reads) {
        reads = "=direct,buffered";
        reads++;
    }
    disks = param("dmarw.disks");
    if (!disks) {
        disks = "=0:0:1:0,0:0:2:0";
        disks++;
    }
    dev = scsi_disk(disks);
    if (!dev) {
        fail("data", "no data disk", 0);
    } else if (param_nums("dmarw.data", v, 2) == 2) {
        if (has(reads, "direct")) {
            read_disk("data-direct-1M", dev, O_DIRECT, BLOCK, v[0], v[1]);
        }
        if (has(reads, "buffered")) {
            read_disk("data-buffered-64K", dev, 0, 65536, v[0], v[1]);
        }
    }

    while (*disks && *disks != ',') {
        disks++;
    }
    dev = *disks ? scsi_disk(disks + 1) : 0;
    if (!dev) {
        fail("scratch", "no scratch disk", 0);
    } else if (param_nums("dmarw.scratch", v, 1) == 1 && v[0]) {
        scratch_disk(dev, v[0]);
    }

    if (param_nums("dmarw.net", v, 4) == 4 && net_up()) {
        long ls = tcp_listen(5555);

        if (ls < 0) {
            fail("tcp-rx", "listen", ls);
        }
        tcp_tx(v[0], v[1]);
        if (ls >= 0) {
            tcp_rx(ls, v[2], v[3]);
        }
        net_stats();
    }

    puts1("dma-rw: verdict ");
    puts1(failures ? "FAIL " : "PASS ");
    putu(checks - failures);
    puts1("/");
    putu(checks);
    puts1("\n");
    sys(36); /* sync */
    /* LINUX_REBOOT_MAGIC1, MAGIC2, LINUX_REBOOT_CMD_POWER_OFF */
    sys(NR_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
    for (;;) {
        sys(NR_exit, 0);
    }
}

#ifdef __arch64__
/*
 * The kernel starts us with %sp (biased by 2047) at the window save area
 * below argc; make room for a 176-byte C frame, 16-byte aligned, and call
 * main.
 */
__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "  mov %g0, %fp\n"
        "  add %sp, 2047, %g1\n"
        "  sub %g1, 192, %g1\n"
        "  and %g1, -16, %g1\n"
        "  sub %g1, 2047, %sp\n"
        "  call main\n"
        "   nop\n"
        "  mov 1, %g1\n"
        "  ta 0x6d\n");
#else
/*
 * The kernel starts us with %sp at argc and the 64-byte window save area
 * already reserved above it; make room for a C frame and call main.
 */
__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "  mov %g0, %fp\n"
        "  sub %sp, 32, %sp\n"
        "  and %sp, -8, %sp\n"
        "  call main\n"
        "   nop\n"
        "  mov 1, %g1\n"
        "  ta 0x10\n");
#endif
