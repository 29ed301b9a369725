"""robots.txt rules for census's product token (RFC 9309 group choice and longest match)."""

from __future__ import annotations

from census.sweep.robots import ALLOW_ALL, DISALLOW_ALL, parse_robots


def test_census_group_wins_over_the_star_group() -> None:
    robots = parse_robots("User-agent: *\nAllow: /\n\nUser-agent: census\nDisallow: /\n")
    assert not robots.allows("/mcp")
    assert robots.allows("/robots.txt")


def test_star_group_applies_without_a_census_group() -> None:
    robots = parse_robots("User-agent: badbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n")
    assert robots.allows("/mcp")
    assert not robots.allows("/private/x")


def test_longest_match_wins_and_allow_wins_a_tie() -> None:
    robots = parse_robots(
        "User-agent: Census/2.0\nDisallow: /.well-known/\nAllow: /.well-known/mcp\n"
        "Disallow: /a\nAllow: /a\n"
    )
    assert not robots.allows("/.well-known/ai-catalog.json")
    assert robots.allows("/.well-known/mcp/server-card.json")
    assert robots.allows("/a")


def test_wildcards_and_end_anchor() -> None:
    robots = parse_robots("User-agent: *\nDisallow: /*.json$\nDisallow: /x*y\n")
    assert not robots.allows("/.well-known/mcp.json")
    assert robots.allows("/.well-known/mcp.json/more")
    assert not robots.allows("/x123y")
    assert robots.allows("/x123")


def test_grouped_user_agents_share_rules_and_empty_disallow_allows() -> None:
    robots = parse_robots("User-agent: other\nUser-agent: census\nDisallow:\n")
    assert robots.allows("/mcp")
    assert parse_robots("User-agent: notcensus\nDisallow: /\n").allows("/mcp")


def test_fixed_policies() -> None:
    assert ALLOW_ALL.allows("/anything")
    assert not DISALLOW_ALL.allows("/anything")
