"""census.probe: one endpoint's evidence, in the fewest polite round trips.

Public interface: ``census.probe.plan.probe(target_url, settings, client) -> Evidence`` and
``census.probe.plan.probe_and_classify(...)``; ``census.probe.oneoff.probe_many`` for a batch.
One module per step: modern.py, handshake.py, legacy_sse.py, lists.py, auth.py, cors.py,
ratelimit.py, redirects.py; rpc.py builds every request (method allowlist, no credentials).
"""
