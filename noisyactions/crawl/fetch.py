"""Everything about one video, in as few calls as Flickr allows: getInfo (all fields, duration and
place), the video URLs (getSizes, or derived from id, owner and secret), and the comments only when
there are any."""

from __future__ import annotations

from urllib.parse import urlsplit

from noisyactions.crawl.client import FlickrClient, ItemUnavailable
from noisyactions.crawl.records import OK, RETRYABLE, empty_record
from noisyactions.crawl.retry import RetriesExhausted

# Size label -> (play URL part, height); Flickr's play URLs are www.flickr.com/photos/<owner>/<id>/play/<part>/<secret>/.
PLAY_PARTS = {"Site MP4": ("site", 360), "Mobile MP4": ("mobile", 270), "HD MP4": ("hd", 720), "Video Original": ("orig", 0)}


def play_url_base(rest_url: str) -> str:
    """Where play URLs live: Flickr's www host for api.flickr.com, the same host for a local server."""
    url = urlsplit(rest_url)
    host = "www." + url.netloc[4:] if url.netloc.startswith("api.") else url.netloc
    return f"{url.scheme}://{host}"


def _text(node: dict | None) -> str:
    return (node or {}).get("_content", "") or ""


def _int(value, default=None):
    return int(value) if value not in (None, "") else default


def derived_sources(info: dict, base: str) -> list[dict]:
    """Play URLs built from the id, owner and secret, saving the getSizes call (video_urls: derived).
    HD exists when the original is at least 720 high; the original is tried last and may 404."""
    height = _int(info.get("video", {}).get("height"), 0)
    sources = []
    for label, (part, size) in PLAY_PARTS.items():
        if label == "HD MP4" and height < 720:
            continue
        size = size or height
        url = f"{base}/photos/{info['owner']['nsid']}/{info['id']}/play/{part}/{info['secret']}/"
        sources.append({"label": label, "width": size * 16 // 9, "height": size, "url": url})
    return sources


def fetch_video(client: FlickrClient, photo_id: str, secret: str, concepts: list[str], sentences: list[str], video_urls: str, base: str) -> dict:
    """The video's record; failures become its status instead of stopping the crawl (InvalidKey stops it)."""
    try:
        info = client.call("flickr.photos.getInfo", photo_id=photo_id, **({"secret": secret} if secret else {}))["photo"]
        if video_urls == "getSizes":
            sizes = client.call("flickr.photos.getSizes", photo_id=photo_id)["sizes"]["size"]
            sources = [
                {"label": s["label"], "width": _int(s["width"]), "height": _int(s["height"]), "url": s["source"]}
                for s in sizes
                if s.get("media") == "video" and s["label"] in PLAY_PARTS
            ]
        else:
            sources = derived_sources(info, base)
        comment_count = _int(_text(info.get("comments")), 0)
        comments = []
        if comment_count > 0:
            listed = client.call("flickr.photos.comments.getList", photo_id=photo_id)["comments"].get("comment", [])
            comments = [
                {"id": c["id"], "author": c["author"], "authorname": c.get("authorname", ""), "datecreate": _int(c["datecreate"]), "content": c["_content"]}
                for c in listed
            ]
    except ItemUnavailable as error:
        return empty_record(photo_id, concepts, sentences, error.status, str(error))
    except RetriesExhausted as error:
        return empty_record(photo_id, concepts, sentences, RETRYABLE, str(error))
    location = info.get("location") or {}
    video = info.get("video") or {}
    dates = info.get("dates") or {}
    return {
        "photo_id": photo_id,
        "status": OK,
        "error": "",
        "secret": info["secret"],
        "owner": info["owner"]["nsid"],
        "owner_name": info["owner"].get("username", ""),
        "realname": info["owner"].get("realname", ""),
        "title": _text(info.get("title")),
        "description": _text(info.get("description")),
        "tags": [tag["raw"] for tag in (info.get("tags") or {}).get("tag", [])],
        "date_upload": _int(dates.get("posted")),
        "date_taken": dates.get("taken"),
        "latitude": float(location["latitude"]) if location else None,
        "longitude": float(location["longitude"]) if location else None,
        "accuracy": _int(location.get("accuracy")),
        "locality": _text(location.get("locality")) or None,
        "country": _text(location.get("country")) or None,
        "license": _int(info.get("license")),
        "views": _int(info.get("views")),
        "duration": _int(video.get("duration")),
        "width": _int(video.get("width")),
        "height": _int(video.get("height")),
        "comment_count": comment_count,
        "comments": comments,
        "sources": sources,
        "page_url": next((_text(u) for u in (info.get("urls") or {}).get("url", []) if u.get("type") == "photopage"), ""),
        "concepts": concepts,
        "sentences": sentences,
    }
