#!/usr/bin/env python3
"""Where an ESP command's time goes, stock vs patched, from QEMU's trace events.

bench.py measures throughput; this shows what bounds it. QEMU logs a few
trace events with timestamps (the "log" trace backend, -msg timestamp=on)
and each command is cut into pieces of wall-clock time:

  default   esp-guest READs and WRITEs of --size bytes (build/espfw.bin on
            the guest CPU, the whole data phase in one DMA), on both
            binaries. For each: the command's time (selection to the
            interrupt after MESSAGE ACCEPTED), how much of it a request
            was in the block layer's thread pool (the host's copy plus the
            hand-offs to and from its worker), how many such requests, and,
            for the patched binary, the pieces around its single request:
            resolving and mapping the guest's pages, unmapping them and
            completing, and the status interrupt reaching the guest.
  --guest   the demo guest's O_DIRECT reads of 1 MiB on one binary: how much
            of the time the guest spends in read(2) the ESP spends on the
            SCSI commands, and so how much faster those reads could be even
            if the device took no time at all.

Each event costs a few microseconds to log, so the absolute times are
above bench.py's; read the shares and the counts. Every command's data is
still checked (esp.py, run-guest.py).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import esp        # noqa: E402

MiB = 1 << 20
EVENTS = ('esp_mem_writeb_cmd_selatn', 'esp_mem_writeb_cmd_iccs', 'esp_mem_writeb_cmd_msgacc',
          'esp_raise_irq', 'esp_get_cmd', 'esp_handle_ti', 'thread_pool_submit_aio',
          'thread_pool_complete_aio', 'dma_blk_io', 'dma_complete')
# -msg timestamp=on: "2026-12-06T18:25:58.174328Z event args"
LINE = re.compile(r'\S+T(\d+):(\d+):(\d+)\.(\d+)Z (\w+) ?(.*)')
REQ = re.compile(r'req (0x[0-9a-f]+)')


def traced(qemu, d, tag):
    """A wrapper running @qemu with EVENTS logged to a file; (wrapper, log)"""
    events = os.path.join(d, 'events')
    with open(events, 'w') as f:
        f.write('\n'.join(EVENTS) + '\n')
    log = os.path.join(d, tag + '.log')
    wrapper = os.path.join(d, tag + '.sh')
    with open(wrapper, 'w') as f:
        f.write('#!/bin/sh\nexec %s -trace events=%s -msg timestamp=on -D %s "$@"\n'
                % (qemu, events, log))
    os.chmod(wrapper, 0o755)
    return wrapper, log


def parse(log):
    """[(µs, event, args)]"""
    out = []
    with open(log) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                h, mi, sec, us = (int(g) for g in m.group(1, 2, 3, 4))
                out.append((((h * 60 + mi) * 60 + sec) * 1e6 + us, m.group(5), m.group(6)))
    return out


def commands(ev, start, done):
    """Each command's events: from a @start event until done(them so far)."""
    out, cur = [], None
    for e in ev:
        if e[1] == start:
            cur = [e]
        elif cur is not None:
            cur.append(e)
            if done(cur):
                out.append(cur)
                cur = None
    return out


def firmware_commands(ev):
    """From the selection to the interrupt after MESSAGE ACCEPTED, as the
    firmware times a command."""
    return commands(ev, 'esp_mem_writeb_cmd_selatn',
                    lambda c: c[-1][1] == 'esp_raise_irq' and
                    c[-2][1] == 'esp_mem_writeb_cmd_msgacc')


def guest_commands(ev):
    """From the ESP taking the CDB (however Linux selected) to INITIATOR
    COMMAND COMPLETE."""
    return commands(ev, 'esp_get_cmd', lambda c: c[-1][1] == 'esp_mem_writeb_cmd_iccs')


def in_flight(cmd):
    """µs with at least one thread-pool request pending, and how many"""
    start, spans = {}, []
    for t, name, args in cmd:
        m = REQ.search(args)
        if name == 'thread_pool_submit_aio':
            start[m.group(1)] = t
        elif name == 'thread_pool_complete_aio' and m.group(1) in start:
            spans.append((start.pop(m.group(1)), t))
    busy, end = 0.0, None
    for a, b in sorted(spans):
        if end is None or a > end:
            busy += b - a
            end = b
        elif b > end:
            busy += b - end
            end = b
    return busy, len(spans)


def first(cmd, name):
    for t, n, _ in cmd:
        if n == name:
            return t
    return None


def last(cmd, name):
    ts = [t for t, n, _ in cmd if n == name]
    return ts[-1] if ts else None


def pieces(cmd):
    """{piece: µs} of one command; absent pieces are left out"""
    total = cmd[-1][0] - cmd[0][0]
    io, aios = in_flight(cmd)
    p = {'total': total, 'io': io, 'aios': aios}
    iccs = first(cmd, 'esp_mem_writeb_cmd_iccs')
    irq = [t for t, n, _ in cmd if n == 'esp_raise_irq' and iccs and t < iccs]
    if irq:
        p['irq->guest'] = iccs - irq[-1]
    blk, sub = first(cmd, 'dma_blk_io'), first(cmd, 'thread_pool_submit_aio')
    if blk is not None and sub is not None:
        p['map'] = sub - blk
        done, comp = first(cmd, 'dma_complete'), last(cmd, 'thread_pool_complete_aio')
        if done is not None and comp is not None:
            p['unmap'] = done - comp
    p['rest'] = total - io - sum(p.get(k, 0) for k in ('map', 'unmap', 'irq->guest'))
    return p


def run_esp(a):
    rows = []
    image = os.path.join(a.dir, 'disk.img')
    esp.make_image(image, 128 * MiB)
    for name, qemu in (('stock', a.stock), ('patched', a.patched)):
        for op in ('read', 'write'):
            wrapper, log = traced(qemu, a.dir, '%s-%s' % (name, op))
            esp.run(wrapper, image, op, a.size, a.size * a.commands,
                    'aio=threads,cache=writeback', guest=True)
            # the commands with a data phase, but for the untimed warm-up
            per = [pieces(c) for c in firmware_commands(parse(log))
                   if any(n == 'esp_handle_ti' for _, n, _ in c)][1:]
            med = {k: statistics.median(p[k] for p in per)
                   for k in per[0] if all(k in p for p in per)}
            rows.append((name, op, len(per), med))
    cols = ('total', 'io', 'aios', 'map', 'unmap', 'irq->guest', 'rest')
    print('ESP %s commands from the guest CPU, median per command (µs; aios: count):'
          % fmt_size(a.size))
    print('  %-8s %-6s %5s ' % ('', '', 'cmds') + ' '.join('%10s' % c for c in cols))
    for name, op, n, med in rows:
        print('  %-8s %-6s %5d ' % (name, op, n)
              + ' '.join('%10s' % ('%.0f' % med[c] if c in med else '-') for c in cols))
    print('io: a request in the thread pool (the host copy and the hand-offs to and from '
          'its worker);\nmap/unmap: the series resolving and mapping the pages, and '
          'unmapping them; irq->guest:\nthe status interrupt to the guest\'s next register '
          'write; rest: the guest and the emulation.')


def run_guest(a):
    wrapper, log = traced(a.patched, a.dir, 'guest')
    out = os.path.join(a.dir, 'guest.json')
    cmd = [os.path.join(TOP, 'scripts/run-guest.py'), '--qemu', wrapper, '--quiet',
           '--data-mib', str(a.data_mib), '--reads', 'direct', '--tx-mib', '1', '--rx-mib', '1',
           '--max-rx-errors', '-1', '--json', out, '--image-dir', a.dir]
    if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
        sys.exit('limits: the demo guest failed')
    timed = float(json.load(open(out))['guest']['data-direct-1M']['us'])
    ev = parse(log)
    spans, dmas, aios, isr = [], [], [], []
    for c in guest_commands(ev):
        target = [int(args.split()[-1]) for _, n, args in c if n == 'esp_get_cmd']
        data = [int(args.split()[-1]) for _, n, args in c if n == 'esp_handle_ti']
        data = [n for n in data if n >= 512]
        if target[:1] != [1] or sum(data) != MiB:
            continue
        spans.append(c[-1][0] - c[0][0])
        # the guest's turns: from each interrupt to its next register command
        isr.append(sum(b[0] - a[0] for a, b in zip(c, c[1:])
                       if a[1] == 'esp_raise_irq' and b[1] in ('esp_handle_ti',
                                                                'esp_mem_writeb_cmd_iccs')))
        dmas.append(len(data))
        aios.append(in_flight(c)[1])
    if not spans:
        sys.exit('limits: no 1 MiB READ of the data disk in the trace')
    busy = sum(spans) - sum(isr)
    print('demo guest, O_DIRECT read(2)s of 1 MiB from the data disk (%s):'
          % os.path.relpath(a.patched, TOP))
    print('  %d commands; per command (median): %.0f µs from selection to status, '
          'of which %.0f µs the guest\n  answering the ESP\'s interrupts; %d DMA '
          'programmings, %d thread-pool requests'
          % (len(spans), statistics.median(spans), statistics.median(isr),
             statistics.median(dmas), statistics.median(aios)))
    print('  the guest spent %.0f µs in read(2); the device, between the guest\'s '
          'register commands\n  and its interrupts, %.0f µs (%.0f%%)'
          % (timed, busy, 100 * busy / timed))
    print('  a device that took no time would make these reads at most %.2fx faster'
          % (timed / (timed - busy)))


def fmt_size(n):
    return '%d MiB' % (n // MiB) if n % MiB == 0 else '%d KiB' % (n // 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--stock', default=os.path.join(TOP, 'build/stock/build/qemu-system-sparc'))
    ap.add_argument('--patched', default=os.path.join(TOP, 'build/qemu/build/qemu-system-sparc'))
    ap.add_argument('--size', type=int, default=MiB)
    ap.add_argument('--commands', type=int, default=100)
    ap.add_argument('--guest', action='store_true',
                    help='the demo guest\'s O_DIRECT reads instead, on the --patched '
                         'binary (give it the stock one to compare)')
    ap.add_argument('--data-mib', type=int, default=32)
    a = ap.parse_args()
    assert a.size % 512 == 0 and 0 < a.size <= esp.MAX_COUNT
    # images and logs in memory, as bench.py keeps its images (see there)
    shm = '/dev/shm' if os.access('/dev/shm', os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix='dma-rw-limits.', dir=shm) as a.dir:
        if a.guest:
            run_guest(a)
        else:
            run_esp(a)


if __name__ == '__main__':
    main()
