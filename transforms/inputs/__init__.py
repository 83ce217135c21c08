"""The inputs of a run: where its RawDocs come from.

`files` (ReadFiles: the files of `--input`, matched, confined and read), `watch` (WatchFolder: new
files of watched folders, streaming), `feeds` (ReadFeeds, PollFeeds: feeds polled, their entries
and linked pages) and `fetch` (the one HTTP client of live mode, with its limits). "Input", not
"source": in tollwatch a source is who states a figure (`Claim.source`, the known-sources table).
"""
