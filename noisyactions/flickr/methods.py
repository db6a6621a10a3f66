"""Flickr REST methods over the catalog, answering with the shapes Flickr uses.

Shapes follow Flickr's JSON, quirks included: numbers that arrive as strings (`total`, `license`,
`dateupload`, `views`), text wrapped as {"_content": ...}, and keys omitted when empty (a photo
without comments has no `comment` list), as Flickr's API documentation (flickr.com/services/api) shows them.
"""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from typing import Callable

from noisyactions.flickr.catalog import DEFAULT_SORT, Catalog, parse_date

SEARCH_EXTRAS = (
    "description", "license", "date_upload", "date_taken", "owner_name", "realname", "path_alias", "tags",
    "machine_tags", "geo", "views", "media", "o_dims", "original_format", "count_comments", "last_update",
    "url_sq", "url_t", "url_s", "url_q", "url_m", "url_n", "url_z", "url_c", "url_l", "url_o",
)
# Still sizes: suffix -> (label, longest side).
STILLS = {
    "sq": ("Square", 75), "t": ("Thumbnail", 100), "s": ("Small", 240), "q": ("Large Square", 150),
    "m": ("Medium", 500), "n": ("Small 320", 320), "z": ("Medium 640", 640), "c": ("Medium 800", 800),
    "l": ("Large", 1024), "o": ("Original", 0),
}
# Video size label -> (play URL part, height), as getSizes lists them.
VIDEO_SIZES = {"Site MP4": ("site", 360), "Mobile MP4": ("mobile", 270), "HD MP4": ("hd", 720), "Video Original": ("orig", 0)}
PER_PHOTO_METHODS = {
    "flickr.photos.getInfo", "flickr.photos.getSizes", "flickr.video.getStreamInfo", "flickr.photos.comments.getList",
}


class Record(dict):
    """A search result record that carries its own JSON, serialised once: search pages repeat the
    same records with the same extras, and serialising them is most of a search call's cost."""

    def __init__(self, fields: dict):
        super().__init__(fields)
        self.json = json.dumps(fields, separators=(",", ":"))


def to_json(value) -> str:
    """json.dumps for answers, reusing the serialisation that Records carry."""
    if isinstance(value, Record):
        return value.json
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


class FlickrFailure(Exception):
    """A `stat: fail` answer: Flickr's error code and message."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _still_dims(photo: dict, longest: int) -> tuple[int, int]:
    width, height = photo["original_width"], photo["original_height"]
    if longest and max(width, height) > longest:
        scale = longest / max(width, height)
        width, height = round(width * scale), round(height * scale)
    return width, height


class FlickrMethods:
    """Answers Flickr method calls; `base_url` is where play and still URLs point (the server itself)."""

    def __init__(self, catalog: Catalog, base_url: str, result_cap: int, max_page: int):
        self.catalog, self.base_url = catalog, base_url.rstrip("/")
        self.result_cap, self.max_page = result_cap, max_page
        self.handlers: dict[str, Callable[[dict], dict]] = {
            "flickr.test.echo": lambda params: {k: {"_content": v} for k, v in params.items()},
            "flickr.photos.search": self.search,
            "flickr.photos.getInfo": self.get_info,
            "flickr.photos.getSizes": self.get_sizes,
            "flickr.video.getStreamInfo": self.get_stream_info,
            "flickr.photos.comments.getList": self.get_comments,
        }

    def call(self, method: str, params: dict) -> dict:
        handler = self.handlers.get(method)
        if handler is None:
            raise FlickrFailure(112, f'Method "{method}" not found')
        return handler(params)

    # -- URLs ------------------------------------------------------------------------------------------
    def play_url(self, photo: dict, part: str) -> str:
        return f"{self.base_url}/photos/{photo['owner']}/{photo['photo_id']}/play/{part}/{photo['secret']}/"

    def still_url(self, photo: dict, suffix: str) -> str:
        return f"{self.base_url}/stills/{photo['server']}/{photo['photo_id']}_{photo['secret']}_{suffix}.jpg"

    def _photo(self, params: dict) -> dict:
        photo_id = params.get("photo_id", "")
        photo = self.catalog.by_id.get(photo_id)
        if photo is None or ("secret" in params and params["secret"] != photo["secret"]):
            raise FlickrFailure(1, f'Photo "{photo_id}" not found (invalid ID)')
        return photo

    # -- flickr.photos.search -------------------------------------------------------------------------
    def search(self, params: dict) -> dict:
        text, tags = params.get("text", ""), params.get("tags", "")
        if not text.strip() and not tags.strip():
            raise FlickrFailure(3, "Parameterless searches have been disabled. Please use flickr.photos.getRecent instead.")
        try:
            per_page = min(max(int(params.get("per_page", 100)), 1), 500)
            page = min(max(int(params.get("page", 1)), 1), self.max_page)
            dates = {
                key: parse_date(params[key])
                for key in ("min_upload_date", "max_upload_date", "min_taken_date", "max_taken_date")
                if params.get(key)
            }
        except ValueError as error:
            raise FlickrFailure(3, f"Bad search parameter: {error}") from None
        media = params.get("media", "all")
        extras = [e for e in params.get("extras", "").replace(" ", "").split(",") if e]
        if media == "photos":
            result_photos, total = [], 0
        else:
            result = self.catalog.search(
                text=text, tags=tags, tag_mode=params.get("tag_mode", "any"), sort=params.get("sort", DEFAULT_SORT),
                min_upload=dates.get("min_upload_date"), max_upload=dates.get("max_upload_date"),
                min_taken=dates.get("min_taken_date"), max_taken=dates.get("max_taken_date"),
                page=page, per_page=per_page, cap=self.result_cap,
            )
            result_photos, total = result.photos, result.total
        pages = (total + per_page - 1) // per_page
        return {
            "photos": {
                "page": page,
                "pages": str(pages),
                "perpage": per_page,
                "total": str(total),
                "photo": [self.search_record(photo["photo_id"], tuple(extras)) for photo in result_photos],
            }
        }

    @lru_cache(maxsize=100_000)
    def search_record(self, photo_id: str, extras: tuple[str, ...]) -> Record:
        photo = self.catalog.by_id[photo_id]
        record = {
            "id": photo["photo_id"], "owner": photo["owner"], "secret": photo["secret"], "server": photo["server"],
            "farm": photo["farm"], "title": photo["title"], "ispublic": 1, "isfriend": 0, "isfamily": 0,
        }
        for extra in extras:
            if extra == "description":
                record["description"] = {"_content": photo["description"]}
            elif extra == "license":
                record["license"] = str(photo["license"])
            elif extra == "date_upload":
                record["dateupload"] = str(photo["date_upload"])
            elif extra == "date_taken":
                record.update(datetaken=photo["date_taken"], datetakengranularity=0, datetakenunknown="0")
            elif extra == "owner_name":
                record["ownername"] = photo["owner_name"]
            elif extra == "realname":
                record["realname"] = photo["realname"]
            elif extra == "path_alias":
                record["pathalias"] = photo["owner_name"].lower()
            elif extra == "tags":
                record["tags"] = " ".join(photo["tags"])
            elif extra == "machine_tags":
                record["machine_tags"] = ""
            elif extra == "geo":
                if photo["latitude"] is None:
                    record.update(latitude=0, longitude=0, accuracy=0, context=0)
                else:
                    record.update(
                        latitude=photo["latitude"], longitude=photo["longitude"], accuracy=str(photo["accuracy"]),
                        context=0, place_id=f"pl{zlib.crc32(photo['locality'].encode()) % 10**8}", geo_is_public=1,
                    )
            elif extra == "views":
                record["views"] = str(photo["views"])
            elif extra == "media":
                record.update(media="video", media_status="ready")
            elif extra == "o_dims":
                record.update(o_width=str(photo["original_width"]), o_height=str(photo["original_height"]))
            elif extra == "original_format":
                record.update(originalsecret=photo["secret"][::-1], originalformat=photo["original_format"])
            elif extra == "count_comments":
                record["count_comments"] = str(len(photo["comments"]))
            elif extra == "last_update":
                record["lastupdate"] = str(photo["date_upload"] + 3600)
            elif extra.startswith("url_") and extra[4:] in STILLS:
                suffix = extra[4:]
                width, height = _still_dims(photo, STILLS[suffix][1])
                record.update({extra: self.still_url(photo, suffix), f"height_{suffix}": height, f"width_{suffix}": width})
        return Record(record)

    # -- per-photo methods ----------------------------------------------------------------------------
    def get_info(self, params: dict) -> dict:
        photo = self._photo(params)
        info = {
            "id": photo["photo_id"], "secret": photo["secret"], "server": photo["server"], "farm": photo["farm"],
            "dateuploaded": str(photo["date_upload"]), "isfavorite": 0, "license": str(photo["license"]),
            "safety_level": "0", "rotation": 0, "originalsecret": photo["secret"][::-1],
            "originalformat": photo["original_format"], "views": str(photo["views"]), "media": "video",
            "owner": {
                "nsid": photo["owner"], "username": photo["owner_name"], "realname": photo["realname"],
                "location": "", "path_alias": photo["owner_name"].lower(),
            },
            "title": {"_content": photo["title"]},
            "description": {"_content": photo["description"]},
            "visibility": {"ispublic": 1, "isfriend": 0, "isfamily": 0},
            "dates": {
                "posted": str(photo["date_upload"]), "taken": photo["date_taken"], "takengranularity": 0,
                "takenunknown": "0", "lastupdate": str(photo["date_upload"] + 3600),
            },
            "comments": {"_content": str(len(photo["comments"]))},
            "tags": {
                "tag": [
                    {"id": f"{photo['photo_id']}-{k}", "author": photo["owner"], "authorname": photo["owner_name"],
                     "raw": tag, "_content": tag, "machine_tag": 0}
                    for k, tag in enumerate(photo["tags"])
                ]
            },
            "urls": {"url": [{"type": "photopage", "_content": f"https://www.flickr.com/photos/{photo['owner']}/{photo['photo_id']}/"}]},
            "video": {
                "ready": 1, "failed": 0, "pending": 0, "duration": str(photo["duration"]),
                "width": str(photo["original_width"]), "height": str(photo["original_height"]),
            },
        }
        if photo["latitude"] is not None:
            info["location"] = {
                "latitude": str(photo["latitude"]), "longitude": str(photo["longitude"]), "accuracy": str(photo["accuracy"]),
                "context": "0", "locality": {"_content": photo["locality"]}, "country": {"_content": photo["country"]},
            }
        return {"photo": info}

    def _video_sizes(self, photo: dict) -> list[tuple[str, str, int, int]]:
        sizes = []
        for label in photo["sizes"]:
            part, height = VIDEO_SIZES[label]
            height = height or photo["original_height"]
            sizes.append((label, part, height * 16 // 9, height))
        return sizes

    def get_sizes(self, params: dict) -> dict:
        photo = self._photo(params)
        size = []
        for suffix in ("sq", "t", "s", "m"):
            label, longest = STILLS[suffix]
            width, height = _still_dims(photo, longest)
            size.append({"label": label, "width": width, "height": height, "source": self.still_url(photo, suffix),
                         "url": f"https://www.flickr.com/photos/{photo['owner']}/{photo['photo_id']}/sizes/{suffix}/", "media": "photo"})
        for label, part, width, height in self._video_sizes(photo):
            url = self.play_url(photo, part)
            size.append({"label": label, "width": str(width), "height": str(height), "source": url, "url": url, "media": "video"})
        return {"sizes": {"canblog": 0, "canprint": 0, "candownload": 1, "size": size}}

    def get_stream_info(self, params: dict) -> dict:
        photo = self._photo(params)
        return {"streams": {"stream": [{"type": part, "_content": self.play_url(photo, part)} for _, part, _, _ in self._video_sizes(photo)]}}

    def get_comments(self, params: dict) -> dict:
        photo = self._photo(params)
        comments: dict = {"photo_id": photo["photo_id"]}
        if photo["comments"]:
            comments["comment"] = [
                {
                    "id": c["id"], "author": c["author"], "author_is_deleted": 0, "authorname": c["authorname"],
                    "datecreate": str(c["datecreate"]),
                    "permalink": f"https://www.flickr.com/photos/{photo['owner']}/{photo['photo_id']}/#comment{c['id']}",
                    "_content": c["content"],
                }
                for c in photo["comments"]
            ]
        return {"comments": comments}
