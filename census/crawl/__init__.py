"""census.crawl."""
