#!/usr/bin/python3
"""CPU time and memory of a whole process tree, read from /proc.

Usage: proctree.py PID         -> prints "cpu_us rss_kb hwm_kb nproc"
       (imported by idle.py: tree_pids(), cpu_us(), rss_kb())

cpu_us sums utime+stime (all threads, /proc/PID/stat fields 14-15) plus
cutime+cstime (reaped children, fields 16-17) over PID and every
descendant, so a child that exits between two samples moves from its own
row into its parent's and is never lost or counted twice. rss_kb and hwm_kb
sum VmRSS and VmHWM (peak) over the tree.
"""
import os
import sys

TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    # comm (field 2) may contain spaces and ')' — split after the last ')'.
    rest = data[data.rindex(b")") + 2:].split()
    return rest  # rest[0] is field 3 (state)


def tree_pids(root):
    """root and all its descendants that are alive now."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(_stat(name)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [int(root)]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_us(pids):
    total = 0
    for pid in pids:
        try:
            f = _stat(pid)
        except OSError:
            continue
        # fields 14..17 are rest[11..14]
        total += sum(int(x) for x in f[11:15])
    return int(total * TICK_US)


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pids):
    return sum(_status_kb(p, "VmRSS:") for p in pids)


def hwm_kb(pids):
    return sum(_status_kb(p, "VmHWM:") for p in pids)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: proctree.py PID")
    pids = tree_pids(sys.argv[1])
    if not os.path.exists(f"/proc/{pids[0]}"):
        sys.exit(f"proctree.py: no process {pids[0]}")
    print(cpu_us(pids), rss_kb(pids), hwm_kb(pids), len(pids))


if __name__ == "__main__":
    main()
