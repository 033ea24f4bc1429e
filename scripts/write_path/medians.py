# SPDX-License-Identifier: GPL-3.0-or-later
# Medians of the "rep N: case value ..." lines of cases.sh, and the median of
# per-rep ratios against one case.   /usr/bin/python3 scripts/write_path/medians.py FILE [REF]
import sys, re, statistics as st, collections
d = collections.defaultdict(list); rows = []
for l in open(sys.argv[1]):
    if not l.startswith('rep'): continue
    kv = l.split(':', 1)[1].split(); r = dict(zip(kv[::2], map(float, kv[1::2]))); rows.append(r)
    for k, v in r.items(): d[k].append(v)
ref = sys.argv[2] if len(sys.argv) > 2 else 'dd'
for k, v in d.items():
    ratios = [100 * r[k] / r[ref] for r in rows if k in r and ref in r]
    print("%-8s n=%d median %6.0f MB/s  min %6.0f max %6.0f  median of per-rep %% of %s: %5.1f" % (k, len(v), st.median(v), min(v), max(v), ref, st.median(ratios)))
