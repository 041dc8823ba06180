"""`--plot PATH`: a PNG bar chart of cygrad's time ratios (matplotlib, an optional import)."""
from cygrad.bench.report import ratio

MISSING = ("--plot needs matplotlib, which is not installed here (pip install matplotlib); "
           "the table and --json work without it")


def matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_ratios(results, path, title):
    """One horizontal bar pair per (case, threads): cygrad's time over torch's and over numpy's,
    on a log axis with a line at 1 (left of it cygrad is faster). Returns the path written."""
    import matplotlib
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    labels = [f"{r['case']} [{r['threads']}t]" for r in results]
    series = [(ref, [ratio(r, reference=ref) for r in results], color)
              for ref, color in (("torch", "#d95f02"), ("numpy", "#1b9e77"))]
    series = [s for s in series if any(v is not None for v in s[1])]
    height = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.28 * len(results)))
    for k, (ref, values, color) in enumerate(series):
        ys = [i + (k - (len(series) - 1) / 2) * height for i in range(len(results))]
        ax.barh([y for y, v in zip(ys, values) if v is not None],
                [v for v in values if v is not None], height=height, color=color,
                label=f"cygrad time / {ref} time")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(results)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ratio of median times (< 1: cygrad is faster)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
