"""Starter input files (``fourp1000 template``), built from the input model in :mod:`fourp1000.io.schema`."""

from __future__ import annotations

import io

import pandas as pd
import yaml

from .schema import COLUMNS

# Columns most users need; --all-columns adds the rest of the schema.
COMMON = ("farm_id", "plot_id", "area_ha", "climate_zone", "soil_class", "land_use", "tillage", "input_level",
          "practices", "top_cm", "bottom_cm", "soc_pct", "bulk_density_g_cm3", "coarse_fragments_pct", "clay_pct",
          "silt_pct", "sand_pct")

_EXAMPLE = [
    {"farm_id": "my-farm", "plot_id": "field-1", "area_ha": 4.5, "climate_zone": "cool_temperate_moist",
     "soil_class": "HAC", "land_use": "cropland", "tillage": "full", "input_level": "medium",
     "practices": "cover_crops;reduced_tillage", "top_cm": 0, "bottom_cm": 10, "soc_pct": 1.6,
     "bulk_density_g_cm3": 1.25, "coarse_fragments_pct": 5, "clay_pct": 22, "silt_pct": 48, "sand_pct": 30},
    {"farm_id": "my-farm", "plot_id": "field-1", "area_ha": 4.5, "climate_zone": "cool_temperate_moist",
     "soil_class": "HAC", "land_use": "cropland", "tillage": "full", "input_level": "medium",
     "practices": "cover_crops;reduced_tillage", "top_cm": 10, "bottom_cm": 30, "soc_pct": 1.1,
     "bulk_density_g_cm3": 1.4, "coarse_fragments_pct": 5, "clay_pct": 24, "silt_pct": 47, "sand_pct": 29},
    {"farm_id": "my-farm", "plot_id": "field-2", "area_ha": 2.0, "climate_zone": "cool_temperate_moist",
     "soil_class": "HAC", "land_use": "grassland", "tillage": "none", "input_level": "medium",
     "practices": "improved_grassland", "top_cm": 0, "bottom_cm": 30, "soc_pct": 2.4,
     "bulk_density_g_cm3": None, "coarse_fragments_pct": 0, "clay_pct": 28, "silt_pct": 45, "sand_pct": 27},
]


def _columns(all_columns: bool) -> list[str]:
    names = [c.name for c in COLUMNS]
    if all_columns:
        return names
    return [c for c in COMMON if c in names]


def template_csv(all_columns: bool = False) -> str:
    """A CSV horizon table: the header names every column (units in the names), three example rows."""
    cols = _columns(all_columns)
    frame = pd.DataFrame(_EXAMPLE).reindex(columns=cols)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def template_yaml(all_columns: bool = False) -> str:
    """A YAML farm document with the same fields, commented with units and meanings."""
    cols = _columns(all_columns)
    spec = {c.name: c for c in COLUMNS}
    lines = ["# fourp1000 farm document: farm -> plots -> layers. Field names carry their unit.",
             "# Columns (see `fourp1000 schema`):"]
    for name in cols:
        c = spec[name]
        unit = f" [{c.unit}]" if c.unit else ""
        lines.append(f"#   {name}{unit}: {c.description}")
    plots: dict[str, dict] = {}
    for row in _EXAMPLE:
        plot = plots.setdefault(row["plot_id"], {k: row[k] for k in ("plot_id", "area_ha", "climate_zone",
                                                                      "soil_class", "land_use", "tillage",
                                                                      "input_level") if k in cols})
        plot.setdefault("practices", row["practices"].split(";"))
        layer = {k: row[k] for k in cols if spec[k].level == "layer" and row.get(k) is not None}
        plot.setdefault("layers", []).append(layer)
    doc = {"farm_id": _EXAMPLE[0]["farm_id"], "plots": list(plots.values())}
    return "\n".join(lines) + "\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)
