"""Places for geotagged videos: small boxes around inland cities, so every point lies inside its country.

Countries are listed by how often Flickr videos come from them (most first); the world draws a
country with Zipf-like weights over this order, then a point in one of its boxes.
"""

from __future__ import annotations

import numpy as np

# (country, ISO 3166-1 alpha-2, city, latitude, longitude); boxes are +-0.15 degrees around the city.
PLACES = (
    ("United States", "US", "Denver", 39.74, -104.99),
    ("United States", "US", "Kansas City", 39.10, -94.58),
    ("United States", "US", "Dallas", 32.78, -96.80),
    ("United States", "US", "Atlanta", 33.75, -84.39),
    ("United Kingdom", "GB", "Birmingham", 52.49, -1.89),
    ("United Kingdom", "GB", "Oxford", 51.75, -1.26),
    ("Germany", "DE", "Kassel", 51.31, 9.48),
    ("Germany", "DE", "Munich", 48.14, 11.58),
    ("France", "FR", "Paris", 48.86, 2.35),
    ("France", "FR", "Lyon", 45.76, 4.84),
    ("Canada", "CA", "Calgary", 51.05, -114.07),
    ("Canada", "CA", "Ottawa", 45.42, -75.70),
    ("Spain", "ES", "Madrid", 40.42, -3.70),
    ("Italy", "IT", "Florence", 43.77, 11.25),
    ("Japan", "JP", "Nagano", 36.65, 138.18),
    ("India", "IN", "Delhi", 28.61, 77.21),
    ("India", "IN", "Nagpur", 21.15, 79.09),
    ("Australia", "AU", "Alice Springs", -23.70, 133.88),
    ("Australia", "AU", "Canberra", -35.28, 149.13),
    ("Netherlands", "NL", "Utrecht", 52.09, 5.12),
    ("Brazil", "BR", "Brasilia", -15.79, -47.88),
    ("Mexico", "MX", "Mexico City", 19.43, -99.13),
    ("China", "CN", "Xi'an", 34.34, 108.94),
    ("Poland", "PL", "Warsaw", 52.23, 21.01),
    ("Sweden", "SE", "Orebro", 59.27, 15.21),
    ("Switzerland", "CH", "Bern", 46.95, 7.45),
    ("Austria", "AT", "Graz", 47.07, 15.44),
    ("Russia", "RU", "Moscow", 55.76, 37.62),
    ("Argentina", "AR", "Cordoba", -31.42, -64.18),
    ("South Africa", "ZA", "Johannesburg", -26.20, 28.05),
    ("Turkey", "TR", "Ankara", 39.93, 32.86),
    ("Czechia", "CZ", "Prague", 50.08, 14.44),
    ("Hungary", "HU", "Budapest", 47.50, 19.04),
    ("Ireland", "IE", "Athlone", 53.42, -7.94),
    ("Portugal", "PT", "Evora", 38.57, -7.91),
    ("Greece", "GR", "Larissa", 39.64, 22.42),
    ("Norway", "NO", "Lillehammer", 61.11, 10.47),
    ("Thailand", "TH", "Chiang Mai", 18.79, 98.98),
    ("Kenya", "KE", "Nairobi", -1.29, 36.82),
    ("Egypt", "EG", "Cairo", 30.04, 31.24),
    ("Colombia", "CO", "Bogota", 4.71, -74.07),
    ("Peru", "PE", "Huancayo", -12.07, -75.21),
    ("Chile", "CL", "Santiago", -33.45, -70.67),
    ("Nigeria", "NG", "Abuja", 9.08, 7.40),
    ("Vietnam", "VN", "Hanoi", 21.03, 105.85),
    ("Iran", "IR", "Tehran", 35.69, 51.39),
    ("Morocco", "MA", "Marrakesh", 31.63, -8.01),
    ("Nepal", "NP", "Kathmandu", 27.72, 85.32),
    ("New Zealand", "NZ", "Hamilton", -37.79, 175.28),
)

BOX_DEGREES = 0.15


def country_order() -> list[str]:
    """Countries in order of first appearance in PLACES (most Flickr videos first)."""
    return list(dict.fromkeys(place[0] for place in PLACES))


def sample_place(rng: np.random.Generator, zipf_exponent: float = 1.2) -> dict:
    """A random geotag: coordinates inside a real country, with its names."""
    countries = country_order()
    weights = 1.0 / np.arange(1, len(countries) + 1) ** zipf_exponent
    country = countries[rng.choice(len(countries), p=weights / weights.sum())]
    cities = [place for place in PLACES if place[0] == country]
    _, code, city, lat, lon = cities[rng.integers(len(cities))]
    return {
        "country": country,
        "country_code": code,
        "locality": city,
        "latitude": round(lat + rng.uniform(-BOX_DEGREES, BOX_DEGREES), 6),
        "longitude": round(lon + rng.uniform(-BOX_DEGREES, BOX_DEGREES), 6),
        "accuracy": int(rng.choice([11, 13, 16])),
    }
