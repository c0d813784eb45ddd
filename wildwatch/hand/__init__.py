"""Offers found by hand: a page or file an analyst saved, stored as a listing like the crawled ones.

files.py     reading an upload (HTML, MHTML, WARC, WACZ, PDF, PNG/JPEG): its type from its bytes, caps, its text
ingest.py    the listing, its evidence, contacts, keywords, ranker score, queue entry and networks
platforms.py the value list of platforms without a site file (Facebook, Zalo, WeChat...)
"""
