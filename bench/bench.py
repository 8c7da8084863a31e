#!/usr/bin/env python3
"""Stock QEMU vs the dma-rw series, side by side in one run.

Each workload runs on both binaries, alternating which goes first, for
several repetitions; the report gives medians, the spread ((max - min) /
median) and the patched/stock ratio, next to the host's own ceiling measured
in the same run. Every workload checks its data; a run whose data is wrong
aborts the benchmark instead of producing a figure.
"""

import argparse
import json
import mmap
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import esp        # noqa: E402
import ide        # noqa: E402
import iopmem     # noqa: E402
import lance      # noqa: E402
from sun4m import DataError  # noqa: E402

MiB = 1 << 20
PAGE = 4096
IOV_MAX = 1024
ESP_SIZES = [('64K', 64 << 10), ('1M', 1 << 20), ('max', esp.MAX_COUNT)]
# stock QEMU returns wrong data for IDE commands above 8 MiB (bench/ide.py)
IDE_SIZES = [('64K', 64 << 10), ('1M', 1 << 20), ('8M', 8 << 20)]
P2P_SIZES = [('1M', 1 << 20), ('8M', 8 << 20)]


def ceiling(image, seconds=1.0):
    """Host pread of the image (in memory: tmpfs or page cache) and memcpy bandwidth, MB/s."""
    fd = os.open(image, os.O_RDONLY)
    size = os.path.getsize(image)
    buf = bytearray(MiB)
    os.preadv(fd, [buf], 0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for off in range(0, size, MiB):
            n += os.preadv(fd, [buf], off)
    pread = n / (time.perf_counter() - t0) / 1e6
    os.close(fd)
    src, dst = bytearray(os.urandom(64 * MiB)), bytearray(64 * MiB)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        dst[:] = src
        n += len(src)
    memcpy = n / (time.perf_counter() - t0) / 1e6
    return {'pread_MBps': pread, 'memcpy_MBps': memcpy,
            'scattered_MBps': {label: scattered_read(image, size, seconds)
                               for label, size in ESP_SIZES}}


def scattered_read(image, size, seconds, ram=256 * MiB):
    """The host doing an ESP READ's data movement itself, MB/s.

    preadv() of @size bytes of the image (in memory) into scattered,
    non-adjacent 4 KiB pages of a shared mapping the size of the bench's
    guest RAM, IOV_MAX pages per call, one thread: the copy a zero-copy
    READ asks of the host, without any device model around it."""
    fd = os.open(image, os.O_RDONLY)
    fsize = os.path.getsize(image)
    shm = mmap.mmap(-1, ram, flags=mmap.MAP_SHARED)
    mv = memoryview(shm)
    npages = -(-size // PAGE)
    frames = random.Random(1).sample(range(16 * MiB // PAGE, ram // PAGE, 2), npages)
    iovs = [mv[f * PAGE:(f + 1) * PAGE] for f in frames]
    iovs[-1] = iovs[-1][:size - (npages - 1) * PAGE]
    n, off, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if off + size > fsize:
            off = 0
        for i in range(0, npages, IOV_MAX):
            n += os.preadv(fd, iovs[i:i + IOV_MAX], off + i * PAGE)
        off += size
    rate = n / (time.perf_counter() - t0) / 1e6
    del iovs, mv
    shm.close()
    os.close(fd)
    return rate


def guest_run(qemu, a, image_dir):
    """The demo guest: O_DIRECT and buffered reads, TCP both ways (MB/s)."""
    out = os.path.join(a.out, 'guest.json')
    cmd = [os.path.join(TOP, 'scripts/run-guest.py'), '--qemu', qemu, '--quiet',
           '--image-dir', image_dir,
           '--data-mib', str(a.guest_data_mib), '--scratch-mib', '8',
           '--tx-mib', str(a.guest_tcp_mib), '--rx-mib', str(a.guest_tcp_mib),
           '--max-rx-errors', '-1',
           '--json', out, '--log', os.path.join(a.out, 'guest.log')]
    if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
        raise DataError('demo guest: a check failed (see %s)' % os.path.join(a.out, 'guest.log'))
    g = json.load(open(out))['guest']
    return {k: float(g[name]['MB/s']) for k, name in (
        ('guest-direct-1M', 'data-direct-1M'), ('guest-buffered-64K', 'data-buffered-64K'),
        ('guest-tcp-tx', 'tcp-tx'), ('guest-tcp-rx', 'tcp-rx'))}


def workloads(a, image):
    """(name, unit, function(qemu) -> value)"""
    out = []
    # esp: this process drives the ESP over qtest, a socket round trip per
    # register access; esp-guest: build/espfw.bin drives it from the guest
    # CPU and times each command itself, programming the whole data phase
    # in one DMA: the best case, where the series moves data in place
    for kind, prefix, guest in (('esp', 'esp', False), ('esp-guest', 'esp-guest', True)):
        if kind not in a.only:
            continue
        for op in ('read', 'write'):
            for label, size in ESP_SIZES:
                total = a.esp_total_mib * MiB
                out.append(('%s-%s-%s' % (prefix, op, label), 'MB/s',
                            lambda q, op=op, size=size, total=total, guest=guest:
                            esp.run(q, image, op, size, total, a.drive_opts,
                                    guest=guest)['MBps']))
    # esp-split: the same, one DMA programming per 4 KiB page, as Linux's
    # esp_scsi programs a buffer whose pages the IOMMU maps one by one
    if 'esp-split' in a.only:
        for op in ('read', 'write'):
            total = a.esp_total_mib * MiB // 4
            out.append(('esp-split-%s-1M' % op, 'MB/s',
                        lambda q, op=op, total=total:
                        esp.run(q, image, op, MiB, total, a.drive_opts, guest=True,
                                chunk=4096)['MBps']))
    # ide: the sun4u's cmd646 behind the sabre IOMMU, over qtest, on the
    # qemu-system-sparc64 beside each binary
    if 'ide' in a.only:
        for op in ('read', 'write'):
            for label, size in IDE_SIZES:
                total = a.esp_total_mib * MiB // 4
                out.append(('ide-%s-%s' % (op, label), 'MB/s',
                            lambda q, op=op, size=size, total=total:
                            ide.run(q + '64', image, op, size, total,
                                    a.drive_opts)['MBps']))
    # lance-guest: build/lancefw.bin kicks the ring from the guest CPU, in
    # runs of rings it times itself; the frames go nowhere (see lance.py)
    if 'lance' in a.only:
        for d in ('tx', 'rx', 'sink', 'guest'):
            frames = a.frames * (64 if d == 'guest' else 1)
            for size in (64, 1514):
                out.append(('lance-%s-%d' % (d, size), 'frames/s',
                            lambda q, d=d, size=size, frames=frames:
                            lance.run(q, d, size, frames)['fps']))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--stock', default=os.path.join(TOP, 'build/stock/build/qemu-system-sparc'))
    ap.add_argument('--patched', default=os.path.join(TOP, 'build/qemu/build/qemu-system-sparc'))
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--aio', default='threads', choices=['threads', 'native', 'io_uring'])
    ap.add_argument('--cache', default='writeback', choices=['writeback', 'none'])
    ap.add_argument('--esp-total-mib', type=int, default=256)
    ap.add_argument('--frames', type=int, default=16384)
    ap.add_argument('--guest-data-mib', type=int, default=64)
    ap.add_argument('--guest-tcp-mib', type=int, default=8)
    ap.add_argument('--only', default='esp,esp-guest,esp-split,ide,p2p,lance,guest',
                    help='comma-separated: esp, esp-guest, esp-split, ide, p2p, lance, guest')
    ap.add_argument('--out', default=os.path.join(TOP, 'build/bench'))
    ap.add_argument('--image-dir',
                    help='where the disk images live (default: /dev/shm with cache=writeback, '
                         'else --out)')
    a = ap.parse_args()
    a.only = set(a.only.split(','))
    if a.aio == 'native' and a.cache != 'none':
        sys.exit('bench: aio=native needs cache=none (O_DIRECT)')
    a.drive_opts = 'aio=%s,cache=%s' % (a.aio, a.cache)
    os.makedirs(a.out, exist_ok=True)
    for q in (a.stock, a.patched):
        if not os.access(q, os.X_OK):
            sys.exit('bench: %s missing; run "make stock build"' % q)

    # The images live in memory: this machine reclaims idle page cache
    # within a minute, which would turn part of every run into disk reads
    # (seen: half of a 128 MiB image gone 45 s after reading it). tmpfs
    # has no O_DIRECT, so cache=none keeps them on disk.
    need = (128 + a.guest_data_mib + 16 + 512) * MiB   # + the guest RAM files sun4m.py makes
    if not a.image_dir:
        a.image_dir = a.out
        if a.cache == 'writeback' and os.access('/dev/shm', os.W_OK) and \
                shutil.disk_usage('/dev/shm').free >= need:
            a.image_dir = '/dev/shm'
    if a.cache == 'none' and os.path.realpath(a.image_dir).startswith('/dev/shm'):
        sys.exit('bench: cache=none needs O_DIRECT, which tmpfs (%s) lacks' % a.image_dir)
    image_dir = tempfile.mkdtemp(prefix='dma-rw-bench.', dir=a.image_dir)
    try:
        run_all(a, image_dir)
    finally:
        shutil.rmtree(image_dir)


def run_all(a, image_dir):
    image = os.path.join(image_dir, 'esp-disk.img')
    esp.make_image(image, 128 * MiB)
    variants = [('stock', a.stock), ('patched', a.patched)]
    wl = workloads(a, image)
    samples = {}
    for rep in range(a.reps):
        order = variants if rep % 2 == 0 else variants[::-1]
        print('bench: repetition %d/%d' % (rep + 1, a.reps), flush=True)
        for name, unit, fn in wl:
            for v, q in order:
                val = fn(q)
                samples.setdefault(name, {'unit': unit}).setdefault(v, []).append(val)
                if name.startswith('esp-') and esp.LAST_COUNTERS.get(q):
                    samples[name].setdefault('counters', {})[v] = esp.LAST_COUNTERS[q]
                print('  %-20s %-8s %10.1f %s' % (name, v, val, unit), flush=True)
        if 'guest' in a.only:
            for v, q in order:
                for k, val in guest_run(q, a, image_dir).items():
                    samples.setdefault(k, {'unit': 'MB/s'}).setdefault(v, []).append(val)
                    print('  %-20s %-8s %10.1f MB/s' % (k, v, val), flush=True)
    p2p, sync = {}, None
    if 'p2p' in a.only:
        # the series only (stock has no iopmem): disk <-> iopmem against
        # disk <-> RAM behind the IOMMU, alternating, on one binary
        for rep in range(a.reps):
            targets = ('ram', 'iopmem', 'iopmem-ram')
            targets = targets if rep % 2 == 0 else targets[::-1]
            for op in ('read', 'write'):
                for label, size in P2P_SIZES:
                    for target in targets:
                        val = ide.run(a.patched + '64', image, op, size,
                                      a.esp_total_mib * MiB // 4, a.drive_opts,
                                      target=target)['MBps']
                        p2p.setdefault('ide-%s-%s' % (op, label), {}).setdefault(
                            target, []).append(val)
                        print('  ide-%s-%-6s %-8s %10.1f MB/s' % (op, label, target, val),
                              flush=True)
        sync = iopmem.run(a.patched + '64')
    ceil = ceiling(image)
    report(a, samples, ceil, p2p, sync)


def spread(xs):
    m = statistics.median(xs)
    return (max(xs) - min(xs)) / m if m else 0.0


def report(a, samples, ceil, p2p=None, sync=None):
    rows = []
    for name, s in samples.items():
        st, pa = statistics.median(s['stock']), statistics.median(s['patched'])
        rows.append({'workload': name, 'unit': s['unit'], 'stock': st, 'patched': pa,
                     'ratio': pa / st if st else None,
                     'stock_spread': spread(s['stock']), 'patched_spread': spread(s['patched']),
                     'samples': {'stock': s['stock'], 'patched': s['patched']}})
    for r in rows:
        c = samples[r['workload']].get('counters', {}).get('patched')
        if c:
            r['counters'] = c
    doc = {'date': time.strftime('%Y-%m-%d %H:%M:%S'), 'reps': a.reps,
           'drive': a.drive_opts, 'ceiling': ceil, 'results': rows,
           'host': os.uname().nodename, 'cpus': os.cpu_count()}
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump(doc, f, indent=1)
    stock = subprocess.run([a.stock, '--version'], capture_output=True,
                           text=True).stdout.split('\n')[0].split()[-1]
    lines = ['# dma-rw bench: stock %s vs patched (%s, %d repetitions, medians)' % (stock,
        a.drive_opts, a.reps), '',
        '| workload | unit | stock | patched | ratio | spread stock | spread patched |',
        '|---|---|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append('| %s | %s | %.1f | %.1f | %.2f | %.0f%% | %.0f%% |' % (
            r['workload'], r['unit'], r['stock'], r['patched'], r['ratio'],
            100 * r['stock_spread'], 100 * r['patched_spread']))
    cnt = [(n, s['counters']['patched']) for n, s in samples.items()
           if s.get('counters', {}).get('patched')]
    if cnt:
        lines += ['', 'ESPDMA bus master counters, patched, last repetition (stock has none):', '',
                  '| workload | zero-copy bytes | copied bytes | bounced bytes |',
                  '|---|---:|---:|---:|']
        for n, c in cnt:
            lines.append('| %s | %d | %d | %d |' % (n, c['zero-copy-bytes'], c['copied-bytes'],
                                                 c['bounced-bytes']))
    lines += ['', 'Disk images in %s (%s).' % (
                  a.image_dir, 'tmpfs' if a.image_dir == '/dev/shm' else
                  'not tmpfs: the host may have evicted them from its page cache'),
              '', 'Host ceiling, same run: pread of the image into one 1 MiB '
              'buffer %.0f MB/s, memcpy %.0f MB/s.' % (ceil['pread_MBps'], ceil['memcpy_MBps']),
              '', 'The same data movement as an ESP READ, done by the host itself (preadv of '
              'the image into scattered 4 KiB pages of a 256 MiB shared mapping, one thread; '
              'the series may copy one command with up to four), and the patched esp-guest '
              'READ against it:', '',
              '| size | host, scattered pages | esp-guest-read patched | of host |',
              '|---|---:|---:|---:|']
    for label, _ in ESP_SIZES:
        r = next((r for r in rows if r['workload'] == 'esp-guest-read-%s' % label), None)
        host = ceil['scattered_MBps'][label]
        lines.append('| %s | %.0f | %s | %s |' % (
            label, host, '%.0f' % r['patched'] if r else '-',
            '%.2f' % (r['patched'] / host) if r else '-'))
    if p2p:
        lines += ['', 'Peer-to-peer, the series only: the cmd646 moving data between the '
                  'disk and an iopmem BAR on the other PCI bus segment, against the same '
                  'commands into guest RAM behind the IOMMU (MB/s, medians). iopmem: '
                  'a shared file in /dev/shm; iopmem-ram: anonymous memory like guest '
                  'RAM\'s:', '',
                  '| workload | RAM | iopmem | iopmem-ram | iopmem / RAM | iopmem-ram / RAM '
                  '| spreads |',
                  '|---|---:|---:|---:|---:|---:|---|']
        for name, s in p2p.items():
            m = {k: statistics.median(v) for k, v in s.items()}
            lines.append('| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %s |' % (
                name, m['ram'], m['iopmem'], m['iopmem-ram'], m['iopmem'] / m['ram'],
                m['iopmem-ram'] / m['ram'],
                ' / '.join('%.0f%%' % (100 * spread(s[k]))
                           for k in ('ram', 'iopmem', 'iopmem-ram'))))
    if sync:
        lines += ['', 'iopmem durability request of %d MiB on disk: %.0f ms, during which '
                  '%d status reads took %.0f us median, %.0f us at most (idle: %.0f us '
                  'median, %.0f us at most).' % (256, sync['sync_ms'], sync['reads_during'],
                                                 sync['during_median_us'],
                                                 sync['during_max_us'],
                                                 sync['idle_median_us'],
                                                 sync['idle_max_us'])]
    doc['p2p'], doc['iopmem_sync'] = p2p, sync
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump(doc, f, indent=1)
    lines += ['',
              'ratio = patched / stock (1.00 = same speed); spread = (max - min) / median.']
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(a.out, 'results.md'), 'w') as f:
        f.write(text)
    print()
    print(text)
    plot(a, rows, ceil)


def plot(a, rows, ceil):
    """MB/s by ESP command size, stock vs patched, with the pread ceiling."""
    dat = os.path.join(a.out, 'esp.dat')
    sizes = dict(ESP_SIZES)
    # the guest CPU's driver when it ran (one DMA per command: the best case)
    prefix = 'esp-guest' if any(r['workload'].startswith('esp-guest-') for r in rows) else 'esp'
    driver = ('driven from the guest CPU, one DMA per command' if prefix == 'esp-guest'
              else 'driven over qtest')
    with open(dat, 'w') as f:
        for op in ('read', 'write'):
            for label, size in ESP_SIZES:
                r = next((r for r in rows if r['workload'] == '%s-%s-%s' % (prefix, op, label)),
                         None)
                if r:
                    f.write('%d %f %f\n' % (sizes[label] // 1024, r['stock'], r['patched']))
            f.write('\n\n')
    png = os.path.join(a.out, 'esp.png')
    gp = '''set terminal pngcairo size 900,540
set output '%s'
set title 'ESP SCSI through ESPDMA and the sun4m IOMMU, %s (%s)'
set logscale x 2
set xlabel 'command size (KiB)'
set ylabel 'MB/s'
set key top left
set grid
plot '%s' index 0 using 1:2 with linespoints title 'READ stock', \\
     '%s' index 0 using 1:3 with linespoints title 'READ patched', \\
     '%s' index 1 using 1:2 with linespoints title 'WRITE stock', \\
     '%s' index 1 using 1:3 with linespoints title 'WRITE patched', \\
     %f with lines dashtype 2 title 'host pread ceiling'
''' % (png, driver, a.drive_opts, dat, dat, dat, dat, ceil['pread_MBps'])
    try:
        subprocess.run(['gnuplot'], input=gp.encode(), check=True, capture_output=True)
        print('bench: plot in %s' % png)
    except (OSError, subprocess.CalledProcessError) as e:
        print('bench: no plot (%s)' % e)


if __name__ == '__main__':
    try:
        main()
    except DataError as e:
        sys.exit('bench: WRONG DATA, no figures: %s' % e)
