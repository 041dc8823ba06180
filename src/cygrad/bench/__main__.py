"""python -m cygrad.bench: prints the machine header and one table of medians (or runs the
regression gate with --gate, or rewrites its baseline with --update-baseline)."""
import argparse
import datetime
import json
import sys

from cygrad.bench import FULL, QUICK, header_lines, load_libraries, load_notes, machine_info, \
    ratio, run_cases, select, table_lines
from cygrad.bench.baseline import DEFAULT_PATH
from cygrad.bench.report import gflops_lines
from cygrad.bench.threads import available_cpus

SIGNALS = ("timing", "counts")


def _signals(text):
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SIGNALS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {SIGNALS}")
    return chosen


def _positive(text):
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return n


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cygrad.bench",
        description="Times cygrad against torch and numpy, interleaved; reports medians per unit "
                    "of work and the ratios.")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['rounds']} short rounds instead of {FULL['rounds']}, without "
                             "the slowest cases (under a minute)")
    parser.add_argument("--filter", metavar="WORD", default="",
                        help="only the cases whose name contains WORD")
    parser.add_argument("--threads", metavar="N", type=_positive,
                        help="threads for every library (default: the CPUs this process may use, "
                             f"here {available_cpus()}); sgemm cases also run on 1")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--plot", metavar="PATH",
                        help="also draw the ratios as a PNG bar chart (needs matplotlib)")
    gate = parser.add_argument_group("regression gate")
    gate.add_argument("--gate", action="store_true",
                      help="check time ratios and kernel instruction counts against the baseline; "
                           "exit status 1 on a regression")
    gate.add_argument("--update-baseline", action="store_true",
                      help="measure both signals and rewrite this machine's and this toolchain's "
                           "entries of the baseline (on purpose; CI never does)")
    gate.add_argument("--baseline", metavar="PATH", default=DEFAULT_PATH,
                      help=f"the gate's baseline file (default: {DEFAULT_PATH})")
    gate.add_argument("--signals", type=_signals, default=SIGNALS, metavar="LIST",
                      help="with --gate/--update-baseline: timing, counts or timing,counts "
                           "(default)")
    args = parser.parse_args(argv)

    if args.gate or args.update_baseline:
        return _gate(args)

    cases = select(args.filter, quick=args.quick)
    if not cases:
        parser.error(f"no case matches {args.filter!r}" + (" in --quick" if args.quick else ""))
    if args.plot:
        from cygrad.bench.plot import MISSING, matplotlib_available
        if not matplotlib_available():
            parser.error(MISSING)
    settings = QUICK if args.quick else FULL
    threads = args.threads or available_cpus()
    libs = load_libraries()
    info = machine_info(libs, threads)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    results = run_cases(cases, libs, threads=threads, **settings)

    title = (f"cygrad.bench {'quick' if args.quick else 'full'} run, {when}: "
             f"median of {settings['rounds']} interleaved rounds")
    print(title)
    for line in header_lines(info):
        print(line)
    print()
    for line in table_lines(results):
        print(line)
    gflops = gflops_lines(results)
    if gflops:
        print()
        for line in gflops:
            print(line)
    print()
    print("times: medians per unit of work; ratios: cygrad's time over the other's (< 1: cygrad "
          "is faster).\nnumpy: the same math written with ufuncs or @, no autograd (for -fwd-bwd "
          "cases the backward formula by hand).\nn/a: the case does not apply or the library is "
          "absent.")
    for note in load_notes(results, info):
        print(note)

    if args.json:
        payload = {"date": when, "settings": settings, "machine": info,
                   "results": [{**r, "cygrad_over_torch": ratio(r),
                                "cygrad_over_torch_of_minimums": ratio(r, "min"),
                                "cygrad_over_numpy": ratio(r, reference="numpy")}
                               for r in results]}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
    if args.plot:
        from cygrad.bench.plot import plot_ratios
        plot_ratios(results, args.plot, title)
    return 0


def _gate(args):
    from cygrad.bench import gate
    libs = load_libraries()
    info = machine_info(libs, gate.GATE_THREADS)
    for line in header_lines(info):
        print(line)
    def out(line):
        print(line, flush=True)   # CI logs show each line as it comes
    if args.update_baseline:
        return gate.update_baseline(args.baseline, libs, info, args.signals, out)
    return gate.run_gate(args.baseline, libs, info, args.signals, out)


if __name__ == "__main__":
    sys.exit(main())
