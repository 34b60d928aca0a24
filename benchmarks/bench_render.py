"""Render benchmark (issue 2): a generated platform of N teams x 3 environments x 4 services.

Measures, in one process:
  floor    serializing every rendered object to YAML with the fastest dumper available
           (libyaml's CSafeDumper), in memory: the least any writer could do;
  render   ``render(spec)``: spec -> Bundle;
  write    ``write_tree``: the repository tree (YAML + layout files) written to disk;
  serialize ``repository_files`` alone (the same bytes, in memory), to separate the CPU
           work from the file system's;
and reports objects/s, wall times, peak RSS and the ratio (render + write) / floor, and the
same ratio without the disk, (render + serialize) / floor. Spec loading and guardrails are
reported on their own lines; they are not in the ratio.

    .venv/bin/python benchmarks/bench_render.py [--teams 1000] [--out-root /dev/shm]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath import policy
from goldenpath.gitops.layout import repository_files
from goldenpath.render import render
from goldenpath.services.platform import Checked, write_tree
from goldenpath.spec import load_platform
from tests.factories import generated_platform

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {elapsed:8.2f} s", flush=True)
    return result, elapsed


def floor(bundle) -> int:  # type: ignore[no-untyped-def]
    return sum(len(yaml.dump(r.body, Dumper=DUMPER, sort_keys=True)) for r in bundle)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--skip-guardrails", action="store_true")
    parser.add_argument("--out-root", type=Path, default=None,
                        help="where the tree is written (default: the system temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generated_platform(root / "platform", teams=args.teams, services=4)
        spec, _ = timed("load specs", load_platform, root / "platform")
        bundle, t_render = timed("render", render, spec)
        report = None
        if not args.skip_guardrails:
            report, _ = timed("guardrails", policy.enforce, spec, bundle)
        checked = Checked(spec=spec, bundle=bundle, report=report)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory(dir=args.out_root) as out:
            files, t_write = timed("write tree", write_tree, checked, Path(out) / "tree")
        # Peak of the real path (load, render, guardrails, write), before the in-memory
        # serialization below, which holds every file's bytes at once to time them alone.
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        _, t_serialize = timed("serialize only", repository_files, spec, bundle)
        _, t_floor = timed(f"floor ({DUMPER.__name__})", floor, bundle)
    total = t_render + t_write
    print(f"objects                      {len(bundle)} in {files} files")
    print(f"render + write               {total:8.2f} s  ({len(bundle) / total:,.0f} objects/s)")
    print(f"ratio to floor               {total / t_floor:8.2f}x  (target <= 2x)")
    print(f"ratio without the disk       {(t_render + t_serialize) / t_floor:8.2f}x  "
          "(render + serialize) / floor")
    print(f"peak RSS (generate..write)   {peak_mib:8.0f} MiB  (target < 1024 MiB)")
    name = f"render ({args.teams} teams, {len(bundle)} objects)"
    floor_s = f"floor: CSafeDumper of the same objects, {t_floor:.2f} s"
    record(name, "render + write", f"{total:.2f} s ({total / t_floor:.2f}x)",
           baseline=floor_s, target="<= 2x", met=total / t_floor <= 2)
    record(name, "render + serialize (no disk)",
           f"{(t_render + t_serialize) / t_floor:.2f}x", baseline=floor_s)
    record(name, "peak RSS (generate..write: the process's ru_maxrss)", f"{peak_mib:.0f} MiB",
           target="< 1024 MiB", met=peak_mib < 1024)


if __name__ == "__main__":
    main()
