"""census.net: the only code that touches sockets.

    client.py     ProbeClient (one per process): aiohttp session factory, shared SSLContext,
                  pool limits, capped reads, SSE reader, step deadlines, bounded retries
    resolver.py   VettingResolver: hosts-file or system DNS, refuses non-public addresses,
                  connects to exactly what it vetted (DNS rebinding cannot slip through)
    addresses.py  the one public-address rule (pure; discovery and classifiers share it)
    body.py       bounded gzip/deflate/br decoding
    sse.py        incremental SSE parser (pure; classifiers re-read stored streams with it)
    tlsinfo.py    certificate facts (issuer, days left, version)
    errors.py     every aiohttp/OS/SSL error -> a FailureReason (NetFailure), in one place

Modules are imported explicitly (``from census.net.client import ProbeClient``) so that pure
users such as census.classify never load aiohttp through this package.
"""
