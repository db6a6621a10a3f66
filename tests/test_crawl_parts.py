"""The crawl's parts on their own: queries, journal, retries, downloads, id lists (the rate limit: test_crawl_rate_limit.py)."""

from __future__ import annotations

import random

import flickrapi
import pyarrow.parquet as pq
import pytest
import requests

from noisyactions.crawl.client import FlickrClient, InvalidKey, ItemUnavailable, transient_reason
from noisyactions.crawl.credentials import Credentials, CredentialsError, read_credentials
from noisyactions.crawl.download import Downloader, host_allowed
from noisyactions.crawl.fetch import fetch_video, play_url_base
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.queries import QueryFileError, read_queries
from noisyactions.vocabulary import normalise_class_name
from noisyactions.crawl.retry import RetriesExhausted, RetryPolicy
from noisyactions.crawl.search import plan_from_id_list, search_query
from noisyactions.flickr.server import EmbeddedFlickrServer

from conftest import SHARED

CRAWL = {"timeout_seconds": 5, "max_retries": 3, "backoff_base_seconds": 0.001, "backoff_max_seconds": 0.01,
         "per_page": 7, "result_cap": 10, "min_upload_date": "2004-01-01", "max_upload_date": "2021-12-31"}


@pytest.mark.parametrize(
    "raw, query",
    [("PlayingGuitar", "playing guitar"), ("play_guitar", "play guitar"), ("kicking ball (not soccer)", "kicking ball"),
     ("Juggling+balls", "juggling balls"), ("YoYo", "yo yo"), ("ApplyEyeMakeup", "apply eye makeup")],
)
def test_class_names_normalise_to_search_words(raw, query):
    assert normalise_class_name(raw) == query


def test_queries_merge_across_files_keeping_sources(tmp_path):
    (tmp_path / "ucf.txt").write_text("PlayingGuitar\nJugglingBalls\n")
    (tmp_path / "kin.txt").write_text("playing guitar\n\nkicking ball (not soccer)\n")
    (tmp_path / "sentences.txt").write_text("a man playing  guitar on stage\n")
    queries = read_queries([
        {"path": str(tmp_path / "ucf.txt"), "kind": "class", "source": "ucf101"},
        {"path": str(tmp_path / "kin.txt"), "kind": "class", "source": "kinetics"},
        {"path": str(tmp_path / "sentences.txt"), "kind": "sentence", "source": ""},
    ])
    by_text = {q.query: q for q in queries}
    assert by_text["playing guitar"].sources == ("kinetics", "ucf101")
    assert by_text["a man playing guitar on stage"].kind == "sentence"
    assert len(queries) == 4


def test_query_file_errors_name_the_key_or_line(tmp_path):
    with pytest.raises(QueryFileError, match=r"crawl.queries\[0\].path"):
        read_queries([{"path": str(tmp_path / "missing.txt")}])
    bad = tmp_path / "bad.tsv"
    bad.write_text("query\tkind\tsources\nplaying guitar\tclass\tucf101\nswimming\tverb\t\n")
    with pytest.raises(QueryFileError, match=r"bad.tsv:3"):
        read_queries([{"path": str(bad)}])


def test_journal_drops_a_torn_last_line(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"a": 1})
    journal.append({"a": 2})
    with open(journal.path, "ab") as handle:
        handle.write(b'{"a": 3, "unfinis')
    assert [e["a"] for e in journal.entries()] == [1, 2]
    journal.append({"a": 4})
    assert [e["a"] for e in journal.entries()] == [1, 2, 4]


def test_retry_policy_backs_off_then_gives_up():
    delays = []
    policy = RetryPolicy(3, 1.0, 5.0, sleep=delays.append, rng=random.Random(0))
    attempts = []

    def flaky():
        attempts.append(1)
        raise requests.exceptions.ConnectionError("reset")

    with pytest.raises(RetriesExhausted, match="after 4 attempts"):
        policy.run(flaky, transient_reason, "test")
    assert len(attempts) == 4 and len(delays) == 3
    assert policy.retries == {"ConnectionError": 3}, "counts the retries made, not the last failure"
    assert all(0 <= d <= min(5.0, 2**k) for k, d in enumerate(delays))
    with pytest.raises(ValueError):
        policy.run(lambda: (_ for _ in ()).throw(ValueError("bug")), transient_reason, "test")


@pytest.mark.parametrize(
    "error, reason",
    [
        (flickrapi.FlickrError("Error: 105: Service currently unavailable", code=105), "code 105"),
        (flickrapi.FlickrError("do_request: Status code 429 received"), "http 429"),
        (flickrapi.FlickrError("do_request: Status code 503 received"), "http 503"),
        (flickrapi.FlickrError("do_request: Status code 404 received"), None),
        (flickrapi.FlickrError("Error: 3: bad", code=3), None),
        (requests.exceptions.ReadTimeout("slow"), "ReadTimeout"),
    ],
)
def test_failures_are_classified(error, reason):
    assert transient_reason(error) == reason


def test_credentials_come_from_env_or_file_and_never_print(tmp_path, monkeypatch):
    flickr = {"key_env": "NA_TEST_KEY", "secret_env": "NA_TEST_SECRET", "secrets_file": None, "rest_url": "https://api.flickr.com/services/rest/"}
    with pytest.raises(CredentialsError, match="NA_TEST_KEY"):
        read_credentials(flickr)
    monkeypatch.setenv("NA_TEST_KEY", "k1")
    monkeypatch.setenv("NA_TEST_SECRET", "s1")
    credentials = read_credentials(flickr)
    assert credentials == Credentials("k1", "s1") and "k1" not in repr(credentials)
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("key: k2\nsecret: s2\n")
    assert read_credentials({**flickr, "secrets_file": str(secrets)}).key == "k2"


def test_play_url_base():
    assert play_url_base("https://api.flickr.com/services/rest/") == "https://www.flickr.com"
    assert play_url_base("http://127.0.0.1:8000/services/rest/") == "http://127.0.0.1:8000"


def test_host_allowlist():
    allowed = ["flickr.com", "*.flickr.com", "*.staticflickr.com"]
    assert host_allowed("https://www.flickr.com/photos/x/1/play/site/abc/", allowed)
    assert host_allowed("https://live.staticflickr.com/video/1/abc/site.mp4", allowed)
    assert not host_allowed("https://evil.example/flickr.com/x.mp4", allowed)
    assert not host_allowed("https://flickr.com.evil.example/x.mp4", allowed)


@pytest.fixture
def served(tiny_config, tiny_world):
    with EmbeddedFlickrServer(tiny_world, tiny_config["flickr"]["server"]) as server:
        client = FlickrClient(server.rest_url, Credentials("embedded-key", "embedded-secret"), CRAWL, None, RetryPolicy(3, 0.001, 0.01))
        yield server, client


def test_search_slices_past_the_cap(served, tiny_world):
    server, client = served
    rows = pq.read_table(tiny_world.web_metadata).to_pylist()
    word = "playing"
    expected = {r["photo_id"] for r in rows if word in (r["title"] + " " + r["description"] + " " + " ".join(r["tags"])).lower().split()}
    assert len(expected) > CRAWL["result_cap"]
    assert set(search_query(client, word, CRAWL)) >= expected


def test_fetch_records_unavailable_items_and_stops_on_a_bad_key(served, tiny_config, tiny_world):
    server, client = served
    record = fetch_video(client, "1", "", ["x"], [], "getSizes", server.base_url)
    assert record["status"] == "not_found" and record["concepts"] == ["x"]
    bad = FlickrClient(server.rest_url, Credentials("wrong", "x"), CRAWL, None, RetryPolicy(3, 0.001, 0.01))
    with pytest.raises(InvalidKey):
        fetch_video(bad, "1", "", [], [], "getSizes", server.base_url)
    with pytest.raises(ItemUnavailable):
        client.call("flickr.photos.getInfo", photo_id="1")


def test_derived_urls_save_a_call_and_still_download(served, tiny_world, tmp_path):
    server, client = served
    row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
    record = fetch_video(client, row["photo_id"], row["secret"], [], [], "derived", server.base_url)
    assert "flickr.photos.getSizes" not in client.calls
    download = {"sizes": ["Site MP4"], "max_bytes": 10**7, "allowed_hosts": ["127.0.0.1"], "root": str(tmp_path)}
    result = Downloader(download, RetryPolicy(2, 0.001, 0.01), 5).download(record, tmp_path / "partial")
    assert result["status"] == "ok" and result["size_label"] == "Site MP4"


def test_downloads_refuse_big_foreign_and_broken_files(served, tiny_world, tmp_path):
    server, client = served
    row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
    record = fetch_video(client, row["photo_id"], row["secret"], [], [], "getSizes", server.base_url)
    base = {"sizes": ["Site MP4", "Mobile MP4"], "max_bytes": 10**7, "allowed_hosts": ["127.0.0.1"], "root": str(tmp_path / "v")}
    policy, partial = RetryPolicy(2, 0.001, 0.01), tmp_path / "partial"
    assert Downloader({**base, "max_bytes": 100}, policy, 5).download(record, partial)["status"] == "too_large"
    assert Downloader({**base, "allowed_hosts": ["*.flickr.com"]}, policy, 5).download(record, partial)["status"] == "host_not_allowed"
    broken = dict(record, sources=[dict(s, url=s["url"].replace("/play/", "/nope/")) for s in record["sources"]])
    assert Downloader(base, policy, 5).download(broken, partial)["status"] == "not_found"
    assert not list((tmp_path / "v").glob("*.mp4")) and not list(partial.iterdir()), "nothing refused is left on disk"
    ok = Downloader(base, policy, 5).download(record, partial)
    assert ok["status"] == "ok" and ok["duration"] > 0 and len(ok["sha256"]) == 64


def test_authors_published_id_list_plans_with_its_labels():
    folder = SHARED / "data" / "noisyactions2m_official" / "multilabel"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here (CI and developers have it beside the repository)")
    plan = plan_from_id_list(folder / "trainlist25k.txt", folder / "classInd25k.txt")
    assert plan.num_rows == 27_568
    concepts = plan.column("concepts").to_pylist()
    assert abs(sum(map(len, concepts)) / len(concepts) - 8.8) < 0.05
    labelled = {row["photo_id"]: row for row in plan.to_pylist() if row["photo_id"] == "4150867360"}
    assert labelled["4150867360"]["concepts"] == ["pond", "Pond"], "case-sensitive names from classInd, in the list's order (1|2)"
    assert labelled["4150867360"]["secret"] == "", "an id list has no secrets: getInfo goes without one"


def test_id_list_mode_crawls_the_listed_videos(tiny_config, tiny_world, tmp_path):
    """crawl.mode: ids, as a user rebuilding the published splits runs it (here against the world)."""
    from conftest import free_port
    from noisyactions.crawl.run import crawl_one_shard, plan_crawl

    rows = pq.read_table(tiny_world.web_metadata).slice(0, 3).to_pylist()
    (tmp_path / "classInd.txt").write_text("1 juggle ball\n2 play guitar\n")
    (tmp_path / "trainlist.txt").write_text("".join(f"{r['photo_id']} 1|2\n" for r in rows) + "1234 2\n")
    world = {**tiny_config["world"], "root": str(tiny_world.root)}
    flickr = {**tiny_config["flickr"], "server": {**tiny_config["flickr"]["server"], "port": free_port()}}
    crawl = {**tiny_config["crawl"], "mode": "ids", "ids_file": str(tmp_path / "trainlist.txt"), "ids_class_index": str(tmp_path / "classInd.txt"),
             "max_calls_per_hour": None, "backoff_base_seconds": 0.001}
    plan_crawl(flickr, world, crawl, None, tmp_path / "plan", tmp_path / "search_stats.json", tmp_path / "search.jsonl")
    plan = tmp_path / "plan" / "shard-00000.parquet"
    crawl_one_shard(flickr, world, crawl, plan, tmp_path / "shard.parquet", tmp_path / "shard_stats.json", tmp_path / "journal.jsonl")
    records = {r["photo_id"]: r for r in pq.read_table(tmp_path / "shard.parquet").to_pylist()}
    assert records["1234"]["status"] == "not_found"
    for row in rows:
        record = records[row["photo_id"]]
        assert record["status"] == "ok" and record["title"] == row["title"] and record["concepts"] == ["juggle ball", "play guitar"]
