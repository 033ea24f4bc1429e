# SPDX-License-Identifier: GPL-3.0-or-later
# Per run: each process's time inside pwrite (from pwshim.c), and the union over
# processes: the share of the run in which some writer is in the kernel.
#   /usr/bin/python3 scripts/write_path/union.py DIR
import glob, sys, numpy as np
d = sys.argv[1]
files = sorted(glob.glob(d + "/pw.*"))
allv = []
for f in files:
    a = np.loadtxt(f, ndmin=2)
    big = a[a[:, 2] >= 65536]
    if len(big) == 0: continue
    allv.append(a)
t0 = min(a[a[:,2]>=65536][0, 0] for a in allv); t1 = max(a[a[:,2]>=65536][-1, 1] for a in allv)
span = t1 - t0
print("processes writing:", len(allv), "span of big writes %.4f s" % span)
iv = []
for a in allv:
    a = a[(a[:, 0] >= t0) & (a[:, 1] <= t1)]
    big = a[a[:, 2] >= 65536]; sm = a[a[:, 2] < 65536]
    inw = (big[:, 1] - big[:, 0]).sum(); ins = (sm[:, 1] - sm[:, 0]).sum()
    print("  proc: %d big writes %.0f MiB, in big pwrite %.4f s (%.0f us/MiB), %d small writes %.4f s (%.2f us each); outside pwrite %.4f s (%.0f%% of span)" % (
        len(big), big[:, 2].sum() / 2**20, inw, 1e6 * inw / (big[:, 2].sum() / 2**20), len(sm), ins, 1e6 * ins / max(len(sm), 1), span - inw - ins, 100 * (span - inw - ins) / span))
    iv += [(x[0], x[1]) for x in a]
iv.sort()
u = 0; cs, ce = iv[0]
for s, e in iv[1:]:
    if s > ce: u += ce - cs; cs, ce = s, e
    else: ce = max(ce, e)
u += ce - cs
tot = sum(a[a[:,2]>=65536][:, 2].sum() for a in allv)
print("union of in-pwrite time %.4f s = %.1f%% of span; no rank in pwrite %.4f s (%.1f%%); bytes/span %.0f MB/s" % (u, 100 * u / span, span - u, 100 * (span - u) / span, tot / 1e6 / span))
