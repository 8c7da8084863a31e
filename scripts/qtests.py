#!/usr/bin/env python3
"""Run QEMU qtests of one target and count their TAP test cases.

  qtests.py --build build/qemu/build --target sparc all
  qtests.py --build build/qemu/build --target i386 am53c974-test pcnet-dma-test qos-test:pcnet

Each argument is a qtest name (as in tests/qtest/meson.build), optionally
followed by ':SUBSTRING' to run only the test paths that contain it, or 'all'
for the target's whole suite. Command and environment come from meson's own
test list, so a test runs exactly as 'make check-qtest-TARGET' runs it.

A binary that fails, times out, or runs no case at all (unless listed with
--may-be-empty) counts as a failure. One line per binary, then a summary.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time


def meson_tests(build):
    meson = os.path.join(build, 'pyvenv', 'bin', 'meson')
    if not os.access(meson, os.X_OK):
        meson = 'meson'
    out = subprocess.run([meson, 'introspect', '--tests', build], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def list_paths(cmd, env, cwd):
    out = subprocess.run([cmd[0], '-l'], env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=120).stdout
    return [line.strip() for line in out.splitlines() if line.startswith('/')]


def run_one(name, cmd, env, cwd, timeout, log):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except FileNotFoundError as e:
        rc, out, err = 'missing', '', str(e)
    except subprocess.TimeoutExpired as e:
        rc = 'timeout'
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or '')
    with open(log, 'a') as f:
        f.write('=== %s: %s\n%s\n--- stderr\n%s\n' % (name, ' '.join(cmd), out, err))
    ok = len(re.findall(r'^ok \d+', out, re.M))
    skip = len(re.findall(r'^ok \d+.*# SKIP', out, re.M))
    bad = len(re.findall(r'^not ok \d+', out, re.M))
    return rc, ok - skip, skip, bad, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--may-be-empty', action='append', default=[],
                    help='a test that legitimately has no case for this target')
    ap.add_argument('--log', default=None)
    ap.add_argument('--results', default=None,
                    help='append "PASS|FAIL name" lines here')
    ap.add_argument('tests', nargs='+')
    a = ap.parse_args()

    build = os.path.abspath(a.build)
    log = a.log or os.path.join(build, 'qtests-%s.log' % a.target)
    open(log, 'w').close()
    suite = 'qtest-' + a.target
    known = {t['name'].split('/', 1)[1]: t for t in meson_tests(build)
             if suite in t['suite'] or 'qemu:' + suite in t['suite']}
    wanted = []
    for arg in a.tests:
        if arg == 'all':
            wanted += [(n, None) for n in sorted(known)]
            continue
        name, _, filt = arg.partition(':')
        if name not in known:
            sys.exit('qtests: %s is not a %s test (have: %s)' % (name, suite, ', '.join(sorted(known))))
        wanted.append((name, filt or None))

    passed = failed = 0
    for name, filt in wanted:
        t = known[name]
        env = dict(os.environ)
        env.update(t['env'])
        cmd = list(t['cmd'])
        label = '%s/%s%s' % (suite, name, ':' + filt if filt else '')
        if filt:
            paths = [p for p in list_paths(cmd, env, build) if filt in p]
            for p in paths:
                cmd += ['-p', p]
            if not paths:
                cmd = None
        if cmd is None:
            rc, ok, skip, bad, dt = 0, 0, 0, 0, 0.0
        else:
            rc, ok, skip, bad, dt = run_one(label, cmd, env, build,
                                            max(t.get('timeout', 30), 30) * 4, log)
        empty = ok + bad == 0 and name not in a.may_be_empty
        good = rc == 0 and bad == 0 and not empty
        why = ''
        if rc != 0:
            why = ' exit=%s' % rc
        if empty:
            why += ' ran no test case'
        print('%s %-45s %3d ok %2d skip %2d fail %5.1fs%s' % (
            'PASS' if good else 'FAIL', label, ok, skip, bad, dt, why), flush=True)
        if a.results:
            with open(a.results, 'a') as f:
                f.write('%s %s\n' % ('PASS' if good else 'FAIL', label))
        passed += good
        failed += not good
    print('qtests %s: %d passed, %d failed (log: %s)' % (a.target, passed, failed, log))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
