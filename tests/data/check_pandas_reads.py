#!/usr/bin/python3
"""Reads the files data_write_for_pandas wrote with pandas and checks every value,
the dtypes and the index. Exits non-zero with a message on the first difference."""
import sys

import numpy as np
import pandas as pd


def expected(rows):
    r = np.arange(rows)
    return pd.DataFrame({
        "label_top": (r % 2).astype(np.int64),
        "jet_pt": (500.0 + r / 4.0).astype(np.float32),
        "jet_p_top_ParT_full": 1.0 / (r + 2.0),
        "jet_eta": np.sin(r).astype(np.float32),
    })


def main(directory):
    want = expected(2500)
    for name in ("ours.h5", "ours_compressed.h5"):
        got = pd.read_hdf(f"{directory}/{name}", "df")
        pd.testing.assert_frame_equal(got, want, check_exact=True, check_index_type=False)
        part = pd.read_hdf(f"{directory}/{name}", "df", start=1200, stop=1300)
        assert list(part.index) == list(range(1200, 1300)), "row ranges read by pandas"
    # CSV: float32 columns in shortest float32 text, float64 in shortest float64 text
    got = pd.read_csv(f"{directory}/ours.csv", float_precision="round_trip",
                      dtype={"jet_pt": np.float32, "jet_eta": np.float32})
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    print("pandas reads the HDF5 and CSV files exactly")


if __name__ == "__main__":
    main(sys.argv[1])
