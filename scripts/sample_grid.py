"""Draw the README's picture of the shipped digit generators: samples of each beside real test digits.

    python scripts/sample_grid.py                     # → docs/figures/shipped_samples.png
    python scripts/sample_grid.py --n 30 --seed 1 --out other.png

The first `--n` samples of each generator from one seed, drawn as notebook 06 draws them
(`genimg_edu.gallery`): no sample is picked by hand. The PNG is written atomically.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import set_threads  # noqa: E402
from genimg_edu.gallery import real_digits, shipped_samples, show_gallery  # noqa: E402
from genimg_edu.io import atomic_write  # noqa: E402


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="samples of each generator (default 20: two rows)")
    parser.add_argument("--seed", type=int, default=0, help="the one seed every generator draws from")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "shipped_samples.png")
    args = parser.parse_args(argv)
    if args.n < 1 or args.seed < 0:
        parser.error(f"--n must be at least 1 and --seed at least 0, got --n {args.n} --seed {args.seed}")
    import matplotlib

    matplotlib.use("Agg")
    from genimg_edu.plot import use_course_style

    set_threads()
    use_course_style()
    fig = show_gallery(shipped_samples(args.n, seed=args.seed), real_digits(args.n))
    with atomic_write(args.out, "wb") as f:
        fig.savefig(f, format="png", dpi=110, metadata={"Software": f"python scripts/sample_grid.py --n {args.n} "
                                                                    f"--seed {args.seed}"})
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
