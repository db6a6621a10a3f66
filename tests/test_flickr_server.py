"""A stock flickrapi client works against the embedded server, and every injected fault reaches it
as Flickr would send it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import flickrapi
import pyarrow.parquet as pq
import pytest
import requests
import yaml

from noisyactions.flickr.server import EmbeddedFlickrServer
from noisyactions.video.decode import read_all_frames
from noisyactions.flickr.catalog import words

from conftest import REPO

KEY, SECRET = "embedded-key", "embedded-secret"


def server_config(tiny_config, **changes) -> dict:
    faults = changes.pop("faults", {})
    return {**tiny_config["flickr"]["server"], **changes, "faults": {**tiny_config["flickr"]["server"]["faults"], **faults}}


def client(server, key=KEY) -> flickrapi.FlickrAPI:
    api = flickrapi.FlickrAPI(key, SECRET, format="parsed-json", store_token=False)
    api.REST_URL = server.rest_url
    return api


@pytest.fixture
def server(tiny_config, tiny_world):
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, result_cap=10)) as running:
        yield running


def _busiest_word(tiny_world) -> tuple[str, set[str]]:
    """A word that finds more videos than the test cap, with the ids that contain it."""
    found: dict[str, set[str]] = {}
    for row in pq.read_table(tiny_world.web_metadata).to_pylist():
        for word in set(words(" ".join([row["title"], row["description"], " ".join(row["tags"])]))):
            found.setdefault(word, set()).add(row["photo_id"])
    word = max(found, key=lambda w: len(found[w]))
    return word, found[word]


def test_search_pages_repeat_past_the_cap(server, tiny_world):
    word, expected = _busiest_word(tiny_world)
    assert len(expected) > 10
    api = client(server)
    first = api.photos.search(text=word, media="videos", per_page=5, page=1, sort="date-posted-asc")["photos"]
    assert int(first["total"]) == len(expected) and int(first["pages"]) == -(-len(expected) // 5)
    pages = [api.photos.search(text=word, media="videos", per_page=5, page=p, sort="date-posted-asc")["photos"]["photo"] for p in (1, 2, 3, 4)]
    ids = [[photo["id"] for photo in page] for page in pages]
    assert ids[2] == ids[0] and ids[3] == ids[1], "pages past the cap repeat earlier results"


def test_date_slices_recover_every_result_through_the_cap(server, tiny_world):
    word, expected = _busiest_word(tiny_world)
    api = client(server)
    collected: set[str] = set()

    def crawl(low: int, high: int) -> None:
        query = dict(text=word, media="videos", per_page=4, sort="date-posted-asc", min_upload_date=low, max_upload_date=high, extras="date_upload")
        first = api.photos.search(page=1, **query)["photos"]
        if int(first["total"]) >= 10 and high > low:
            middle = (low + high) // 2
            crawl(low, middle)
            crawl(middle + 1, high)  # inclusive bounds: the next slice starts one second later
            return
        for page in range(1, int(first["pages"]) + 1):
            for photo in api.photos.search(page=page, **query)["photos"]["photo"]:
                assert low <= int(photo["dateupload"]) <= high
                collected.add(photo["id"])

    crawl(0, 2**31 - 1)
    assert collected == expected


def test_info_sizes_stream_comments_and_download(server, tiny_world):
    rows = pq.read_table(tiny_world.web_metadata).to_pylist()
    row = next(r for r in rows if r["comments"] and r["latitude"] is not None) if any(
        r["comments"] and r["latitude"] is not None for r in rows
    ) else next(r for r in rows if r["comments"])
    api = client(server)
    info = api.photos.getInfo(photo_id=row["photo_id"], secret=row["secret"])["photo"]
    assert info["title"]["_content"] == row["title"]
    assert int(info["video"]["duration"]) == row["duration"]
    assert int(info["comments"]["_content"]) == len(row["comments"])
    assert [t["raw"] for t in info["tags"]["tag"]] == row["tags"]
    if row["latitude"] is not None:
        assert info["location"]["country"]["_content"] == row["country"]
    comments = api.photos.comments.getList(photo_id=row["photo_id"])["comments"]["comment"]
    assert [c["_content"] for c in comments] == [c["content"] for c in row["comments"]]
    sizes = api.photos.getSizes(photo_id=row["photo_id"])["sizes"]["size"]
    videos = {s["label"]: s["source"] for s in sizes if s["media"] == "video"}
    assert set(videos) == set(row["sizes"]) and {"Site MP4", "Mobile MP4"} <= set(videos)
    streams = api.video.getStreamInfo(photo_id=row["photo_id"], secret=row["secret"])["streams"]["stream"]
    assert {s["_content"] for s in streams} == set(videos.values())
    response = requests.get(videos["Site MP4"], timeout=10)
    assert response.status_code == 200 and response.history[0].status_code == 302
    assert response.content == (tiny_world.web_videos / f"{row['photo_id']}.mp4").read_bytes()
    still = requests.get(api.photos.search(text=row["title"].split()[0], extras="url_sq")["photos"]["photo"][0]["url_sq"], timeout=10)
    assert still.headers["Content-Type"] == "image/jpeg" and still.content[:2] == b"\xff\xd8"
    counts = server.call_counts
    for method in ("flickr.photos.getInfo", "flickr.photos.comments.getList", "flickr.photos.getSizes", "flickr.video.getStreamInfo"):
        assert counts[method] == 1
    assert counts["play"] == 1


def test_downloaded_video_decodes(server, tiny_world, tmp_path):
    row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
    source = next(s["source"] for s in client(server).photos.getSizes(photo_id=row["photo_id"])["sizes"]["size"] if s["media"] == "video")
    target = tmp_path / "video.mp4"
    target.write_bytes(requests.get(source, timeout=10).content)
    assert read_all_frames(target).shape[0] == 8


def test_invalid_key_and_client_bugs_fail_as_flickr_does(server):
    with pytest.raises(flickrapi.FlickrError) as error:
        client(server, key="not-my-key").photos.search(text="playing")
    assert error.value.code == 100
    with pytest.raises(flickrapi.FlickrError) as error:
        client(server).photos.search(media="videos")
    assert error.value.code == 3
    with pytest.raises(flickrapi.FlickrError) as error:
        client(server).photos.getInfo(photo_id="1")
    assert error.value.code == 1
    with pytest.raises(flickrapi.FlickrError) as error:
        client(server).photos.notAMethod()
    assert error.value.code == 112


def test_get_with_api_key_json_callback_and_xml(server):
    query = {"method": "flickr.test.echo", "api_key": KEY, "foo": "bar"}
    assert json.loads(requests.get(server.rest_url, params={**query, "format": "json", "nojsoncallback": 1}).text)["stat"] == "ok"
    wrapped = requests.get(server.rest_url, params={**query, "format": "json"}).text
    assert wrapped.startswith("jsonFlickrApi(") and wrapped.endswith(")")
    xml = requests.get(server.rest_url, params=query).text
    assert '<rsp stat="ok">' in xml and "bar" in xml
    failed = requests.get(server.rest_url, params={**query, "api_key": "wrong"}).text
    assert '<err code="100"' in failed


@pytest.mark.parametrize("code", [100, 105, 201])
def test_injected_stat_fail_codes(tiny_config, tiny_world, code):
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={f"code_{code}": 1.0})) as server:
        with pytest.raises(flickrapi.FlickrError) as error:
            client(server).photos.search(text="playing")
        assert error.value.code == code


def test_injected_not_found_hits_per_photo_methods_only(tiny_config, tiny_world):
    row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={"code_1": 1.0})) as server:
        api = client(server)
        assert api.photos.search(text="playing")["stat"] == "ok"
        with pytest.raises(flickrapi.FlickrError) as error:
            api.photos.getInfo(photo_id=row["photo_id"])
        assert error.value.code == 1


def test_injected_http_errors(tiny_config, tiny_world):
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={"http_429": 1.0})) as server:
        with pytest.raises(flickrapi.FlickrError, match="Status code 429") as error:
            client(server).photos.search(text="playing")
        assert error.value.code is None
        raw = requests.post(server.rest_url, data={"method": "flickr.test.echo", "api_key": KEY})
        assert raw.status_code == 429 and raw.headers["Content-Type"].startswith("text/html") and "<html>" in raw.text
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={"http_5xx": 1.0})) as server:
        statuses = {requests.post(server.rest_url, data={"method": "flickr.test.echo", "api_key": KEY}).status_code for _ in range(20)}
        assert statuses <= {500, 502, 503} and len(statuses) > 1
        with pytest.raises(flickrapi.FlickrError, match=r"Status code 50\d"):
            client(server).photos.search(text="playing")


def test_injected_slow_response_times_the_client_out(tiny_config, tiny_world):
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={"slow": 1.0, "slow_seconds": 1.5})) as server:
        api = flickrapi.FlickrAPI(KEY, SECRET, format="parsed-json", store_token=False, timeout=0.3)
        api.REST_URL = server.rest_url
        started = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout):
            api.photos.search(text="playing")
        assert time.monotonic() - started < 1.4


def test_injected_truncated_body_breaks_the_read(tiny_config, tiny_world):
    row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
    with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults={"truncated": 1.0})) as server:
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            client(server).photos.search(text="playing")
        url = f"{server.base_url}/videos/{row['photo_id']}_{row['secret']}_site.mp4"
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            requests.get(url, timeout=5)


def test_fault_sequence_is_repeatable(tiny_config, tiny_world):
    def outcomes() -> list[int]:
        faults = {"seed": 5, "http_5xx": 0.3, "code_105": 0.3}
        with EmbeddedFlickrServer(tiny_world, server_config(tiny_config, faults=faults)) as server:
            answers = [requests.post(server.rest_url, data={"method": "flickr.test.echo", "api_key": KEY, "format": "json", "nojsoncallback": 1}) for _ in range(30)]
            return [a.status_code * 1000 + (a.json().get("code", 0) if a.status_code == 200 else 0) for a in answers]

    first = outcomes()
    assert first == outcomes()
    assert len(set(first)) >= 3


def test_standalone_server_serves_the_config(tiny_config, tiny_world, tmp_path):
    config = {**tiny_config, "world": {**tiny_config["world"], "root": str(tiny_world.root)}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [sys.executable, "-m", "noisyactions.flickr.server", "--config", str(path), "--port", "0"],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        line = process.stdout.readline()
        rest_url = line.split(" at ")[1].split(" ")[0]
        answer = requests.post(rest_url, data={"method": "flickr.test.echo", "api_key": KEY, "format": "json", "nojsoncallback": 1})
        assert answer.json()["stat"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_servers_sharing_a_call_log_record_every_rest_call_once(tiny_config, tiny_world, tmp_path):
    """Two servers (two crawl jobs) append to one log: one line per REST call, with the time it arrived and
    the serving process; file requests are not REST calls and are not logged."""
    log = tmp_path / "calls.log"
    config = server_config(tiny_config, port=0, call_log=str(log))
    before = time.time()
    with EmbeddedFlickrServer(tiny_world, config) as first, EmbeddedFlickrServer(tiny_world, config) as second:
        row = pq.read_table(tiny_world.web_metadata).slice(0, 1).to_pylist()[0]
        for running in (first, second, first):
            client(running).photos.getInfo(photo_id=row["photo_id"])
        still = client(first).photos.search(text=row["title"].split()[0], extras="url_sq")["photos"]["photo"][0]["url_sq"]
        assert requests.get(still, timeout=10).status_code == 200
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [method for _, _, method in lines] == ["flickr.photos.getInfo"] * 3 + ["flickr.photos.search"]
    assert all(before <= float(arrived) <= time.time() and process.isdigit() for arrived, process, _ in lines)
