"""Markdown to one self-contained HTML page: tables rendered, images embedded as data URIs.

The manuscript, the tables and the claims summary are written as Markdown (readable in git and in a
terminal) and shown as HTML (the manuscript, `snakemake --report`). Embedding the images makes a page
that opens anywhere, mailed or moved, with no figure left behind.
"""

from __future__ import annotations

import base64
import html
import mimetypes
from pathlib import Path

from markdown_it import MarkdownIt

STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #222; }
h1, h2, h3 { font-family: Helvetica, Arial, sans-serif; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0f0; }
img { max-width: 100%; }
figure { margin: 1.5rem 0; }
figcaption, .caption { font-size: 0.9rem; color: #444; }
code { font-size: 0.85rem; }
"""


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def markdown_to_html(markdown: str, images_from: Path | None = None) -> str:
    """The body's HTML. With `images_from`, every image with a relative path is read from that folder and
    embedded; one that is not there is an error naming it, never a broken image on the page."""
    parser = _parser()
    tokens = parser.parse(markdown)
    if images_from is not None:
        for token in tokens:
            for child in token.children or []:
                if child.type != "image":
                    continue
                source = str(child.attrGet("src"))
                if source.startswith(("data:", "http:", "https:")):
                    continue
                path = Path(images_from) / source
                if not path.is_file():
                    raise FileNotFoundError(f"image {source!r} of the page is not a file: {path}")
                child.attrSet("src", data_uri(path))
    return parser.renderer.render(tokens, parser.options, {})


def html_page(body: str, title: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def markdown_page(markdown: str, title: str, images_from: Path | None = None) -> str:
    return html_page(markdown_to_html(markdown, images_from), title)
