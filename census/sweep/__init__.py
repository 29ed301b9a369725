"""The domain sweep: find MCP endpoints nobody registered by looking at domains, in stages.

DNS for every domain (:mod:`census.sweep.dns`), HTTP only for names that resolved to public
addresses (:mod:`census.sweep.http`, robots.txt first: :mod:`census.sweep.robots`), the two side
by side (:mod:`census.sweep.pipeline`), split into procrastinate jobs (:mod:`census.sweep.jobs`).
"""
