"""The Flickr crawl (paper Sec. 3): queries -> sliced searches -> per-video metadata -> downloads.

Built to survive a week-long crawl: every long step is resumable from an append-only journal, every
file is written atomically, API calls are rate-limited across all jobs that share a key, transient
failures back off and retry, and each record carries its own status and error.
"""
