"""Signals of our own, sent through the crawler's signal manager (Scrapy's custom-signal idiom)."""

# A listing page failed after Scrapy's retries; arguments: url (the listing's canonical URL), reason.
listing_page_failed = object()
