"""The paper itself: provenance stamps, the manuscript filled from results, executed notebooks, and
the checks that the rendered HTML shows what it should."""
