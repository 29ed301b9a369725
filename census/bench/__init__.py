"""census.bench: census against an SDK-built prober and a bare aiohttp loop (``census bench``).

Public API::

    from census.bench import BenchSpec, run_bench, agreement
    result = run_bench(BenchSpec(endpoints=2000), work_dir)  # {"census", "sdk", "bare", "ratios"}
"""

from census.bench.agreement import CENSUS_COLUMNS, SDK_COLUMNS, Agreement, agreement
from census.bench.measure import BenchError, BenchSpec, run_bench

__all__ = [
    "CENSUS_COLUMNS",
    "SDK_COLUMNS",
    "Agreement",
    "BenchError",
    "BenchSpec",
    "agreement",
    "run_bench",
]
