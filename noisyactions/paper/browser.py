"""Open a rendered page in a real headless Chromium and report what a reader would see.

A page can be valid HTML and still show a broken image or a table that did not render; only a browser
says so. Playwright drives the system's Chromium (Debian's `chromium` package; Playwright's own browser
download needs the internet), given by path or found on PATH.

    python -m noisyactions.paper.browser results/paper/manuscript.html
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Run in the page once it has loaded: every image with whether it decoded, every table with its size.
PAGE_SURVEY = """() => ({
  title: document.title,
  images: [...document.images].map(img => ({
    source: (img.getAttribute('src') || '').slice(0, 80), alt: img.alt,
    loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth, height: img.naturalHeight })),
  tables: [...document.querySelectorAll('table')].map(table => ({
    rows: table.rows.length, columns: table.rows.length ? table.rows[0].cells.length : 0,
    height: table.getBoundingClientRect().height })),
  text_chars: document.body.innerText.length,
})"""


@dataclass
class PageCheck:
    page: str
    title: str = ""
    images: list[dict] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    text_chars: int = 0
    console_errors: list[str] = field(default_factory=list)  # console errors and uncaught script exceptions

    @property
    def broken_images(self) -> list[dict]:
        return [image for image in self.images if not image["loaded"]]

    @property
    def empty_tables(self) -> list[dict]:
        """A table with no data row, or one the browser laid out with no height, did not render."""
        return [table for table in self.tables if table["rows"] < 2 or table["height"] <= 0]

    def problems(self) -> list[str]:
        found = [f"image {image['alt'] or image['source']!r} did not load" for image in self.broken_images]
        found += [f"a table with {table['rows']} rows and height {table['height']:.0f}px did not render" for table in self.empty_tables]
        found += [f"console error: {message}" for message in self.console_errors]
        return found


def find_chromium(executable: str | None = None) -> str:
    """The browser to drive: `executable` (a path or a name on PATH), else the first of CHROMIUM_NAMES found."""
    for name in ([executable] if executable else CHROMIUM_NAMES):
        found = shutil.which(name)
        if found:
            return found
    wanted = executable or " or ".join(CHROMIUM_NAMES)
    raise FileNotFoundError(f"no Chromium found ({wanted}): install Debian's `chromium` package (apt-get install chromium)")


@contextmanager
def _loaded_tab(page: Path, executable: str | None, timeout_ms: int, listen: Callable | None = None) -> Iterator:
    """A headless Chromium tab with `page` loaded (`listen(tab)` first, to hear what loading says); the
    browser is closed however the caller's block ends."""
    from playwright.sync_api import sync_playwright

    page = Path(page).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"no page to open: {page}")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        browser = playwright.chromium.launch(executable_path=find_chromium(executable), args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            if listen:
                listen(tab)
            tab.goto(page.as_uri(), wait_until="load", timeout=timeout_ms)
            yield tab
        finally:
            browser.close()


def check_page(page: Path, executable: str | None = None, timeout_ms: int = 60_000) -> PageCheck:
    result = PageCheck(page=str(Path(page).resolve()))

    def listen(tab) -> None:
        tab.on("console", lambda message: result.console_errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: result.console_errors.append(f"uncaught: {error}"))

    with _loaded_tab(page, executable, timeout_ms, listen) as tab:
        survey = tab.evaluate(PAGE_SURVEY)
    result.title, result.images, result.tables, result.text_chars = survey["title"], survey["images"], survey["tables"], survey["text_chars"]
    return result


def print_pdf(page: Path, pdf: Path, executable: str | None = None, timeout_ms: int = 120_000) -> None:
    """The page as Chromium prints it (A4, backgrounds on): the manuscript's PDF without a TeX engine."""
    from noisyactions.atomic import atomic_path

    with _loaded_tab(page, executable, timeout_ms) as tab, atomic_path(Path(pdf)) as tmp:
        tab.pdf(path=str(tmp), format="A4", print_background=True, margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that rendered pages load, show every image and render their tables.")
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--chromium", help="the browser executable (default: chromium on PATH)")
    arguments = parser.parse_args(argv)
    failed = False
    for page in arguments.pages:
        check = check_page(page, arguments.chromium)
        problems = check.problems()
        failed |= bool(problems)
        summary = {"page": check.page, "images": len(check.images), "tables": len(check.tables), "problems": problems}
        print(json.dumps(summary, indent=1) if problems else f"ok: {page}: {len(check.images)} images, {len(check.tables)} tables")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
