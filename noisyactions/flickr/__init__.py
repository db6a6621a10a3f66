"""Flickr: an embedded Flickr-compatible REST server for the offline world (and, later, the crawler)."""
