"""python -m cygrad.bench: prints the machine header and one table of medians."""
import argparse
import datetime
import json
import sys

from cygrad.bench import FULL, QUICK, header_lines, load_libraries, load_notes, machine_info, \
    ratio, run_cases, select, table_lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cygrad.bench",
        description="Times cygrad against torch (and numpy where it applies), interleaved; "
                    "reports medians per unit of work.")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['rounds']} short rounds instead of {FULL['rounds']} "
                             "(a few seconds)")
    parser.add_argument("--filter", metavar="WORD", default="",
                        help="only the cases whose name contains WORD")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)

    cases = select(args.filter)
    if not cases:
        parser.error(f"no case matches {args.filter!r}")
    settings = QUICK if args.quick else FULL
    libs = load_libraries()
    info = machine_info(libs)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    results = run_cases(cases, libs, **settings)

    print(f"cygrad.bench {'quick' if args.quick else 'full'} run, {when}: "
          f"median of {settings['rounds']} interleaved rounds")
    for line in header_lines(info):
        print(line)
    print()
    for line in table_lines(results):
        print(line)
    print()
    print("times: medians per unit of work. numpy: forward pass only (no autograd).\n"
          "n/a: the case does not apply or the library is absent.")
    for note in load_notes(results, info):
        print(note)

    if args.json:
        payload = {"date": when, "settings": settings, "machine": info,
                   "results": [{**r, "cygrad_over_torch": ratio(r),
                                "cygrad_over_torch_of_minimums": ratio(r, "min")}
                               for r in results]}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
