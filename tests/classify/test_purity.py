import subprocess
import sys


def test_classifiers_load_no_network_stack() -> None:
    code = (
        "import sys, census.classify, census.classify.ratelimit_headers;"
        "bad = [m for m in ('aiohttp', 'anyio', 'census.net.client', 'census.probe') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
