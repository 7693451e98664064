"""The input model: columns of the horizon table, their units, ranges and meaning.

This is the single source of truth for input columns: the loader validates against it,
``fourp1000 schema`` prints it and ``docs/input-format.md`` is generated from it (a test
keeps the two in step).

A horizon table has one row per layer per plot (per sampling date, per core when there
are several). Column names carry their unit (``soc_g_kg``, ``bulk_density_g_cm3``).
Quantities may also be given in another unit by naming it in the column suffix, e.g.
``bulk_density_kg_m3`` or ``soc_permille``: the suffix is parsed and converted with pint
(see :data:`UNIT_SUFFIXES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """One column of the input model.

    ``low``/``high`` bound physically possible values (inclusive unless ``low_open``);
    values outside are rejected with a message naming the range.
    """

    name: str
    kind: str  # "id", "number", "text", "date", "list"
    unit: str | None
    description: str
    required: str = "optional"  # "required", "one of soc", "optional"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    level: str = "layer"  # "layer" or "plot" (plot attributes may repeat on each layer row)
    quantity: str | None = None  # physical quantity, for columns given in another unit


# Van Bemmelen factor: soil organic matter is assumed to be 58 % carbon (1/0.58 = 1.724).
VAN_BEMMELEN = 1.724

COLUMNS: tuple[Column, ...] = (
    Column("plot_id", "id", None, "Plot (or profile) identifier.", "required", level="plot"),
    Column("farm_id", "id", None, "Farm identifier; enables per-farm summaries.", level="plot"),
    Column(
        "sampled_on",
        "date",
        None,
        "Sampling date (YYYY-MM-DD) or year; one result per plot and sampling date.",
        level="plot",
    ),
    Column("core_id", "id", None, "Replicate core within a plot and sampling date.", level="plot"),
    Column("top_cm", "number", "cm", "Upper depth of the layer below the mineral surface.", "required", 0, 1000),
    Column("bottom_cm", "number", "cm", "Lower depth of the layer (must be > top_cm).", "required", 0, 1000),
    Column(
        "soc_pct",
        "number",
        "%",
        "Soil organic carbon of the fine earth (< 2 mm), mass %.",
        "one of soc",
        0,
        58,
        quantity="soc",
    ),
    Column(
        "soc_g_kg",
        "number",
        "g/kg",
        "Soil organic carbon of the fine earth (< 2 mm), g C per kg soil.",
        "one of soc",
        0,
        580,
        quantity="soc",
    ),
    Column(
        "som_pct",
        "number",
        "%",
        "Soil organic matter (e.g. loss on ignition), mass %; converted to SOC with "
        f"--som-factor (default van Bemmelen {VAN_BEMMELEN}) when no SOC column is given.",
        "one of soc",
        0,
        100,
        quantity="som",
    ),
    Column(
        "bulk_density_g_cm3",
        "number",
        "g/cm3",
        "Fine-earth bulk density: oven-dry mass of the < 2 mm fraction per volume of fine earth "
        "(see --bd-basis for other definitions). Missing values are estimated with --bd-ptf.",
        low=0.1,
        high=2.2,
        quantity="bulk_density",
    ),
    Column(
        "coarse_fragments_pct",
        "number",
        "%",
        "Coarse fragments (> 2 mm), volume % of the whole soil. Default 0.",
        low=0,
        high=100,
        quantity="coarse_fragments",
    ),
    Column(
        "coarse_fragments_mass_pct",
        "number",
        "%",
        "Coarse fragments (> 2 mm) as mass % of the whole soil (alternative to the volume %).",
        low=0,
        high=100,
        quantity="coarse_fragments_mass",
    ),
    Column(
        "fine_earth_pct",
        "number",
        "%",
        "Fine earth (< 2 mm) as mass % of the whole soil (e.g. terra fina); coarse fragments by mass are "
        "100 - fine_earth_pct where coarse_fragments_mass_pct is not given.",
        low=0,
        high=100,
        quantity="fine_earth",
    ),
    Column("clay_pct", "number", "%", "Clay (< 2 µm), mass % of the fine earth.", low=0, high=100, quantity="clay"),
    Column("silt_pct", "number", "%", "Silt, mass % of the fine earth.", low=0, high=100, quantity="silt"),
    Column("sand_pct", "number", "%", "Sand, mass % of the fine earth.", low=0, high=100, quantity="sand"),
    Column("area_ha", "number", "ha", "Plot area; weights farm summaries.", low=0, low_open=True, level="plot"),
    Column(
        "bd_basis",
        "text",
        None,
        "How bulk_density_g_cm3 was measured: fine_earth (default; < 2 mm mass per fine-earth volume), "
        "fine_earth_total_volume (< 2 mm mass per whole-soil volume) or whole_soil (mass incl. stones "
        "per whole-soil volume). Overrides --bd-basis per row.",
    ),
    Column("climate_zone", "text", None, "IPCC climate zone slug (used by project/score).", level="plot"),
    Column("soil_class", "text", None, "IPCC soil class: HAC, LAC, sandy, spodic, volcanic, wetland.", level="plot"),
    Column("land_use", "text", None, "cropland, grassland, paddy, perennial, set_aside.", level="plot"),
    Column("tillage", "text", None, "full, reduced or none.", level="plot"),
    Column("input_level", "text", None, "low, medium, high or high_manure.", level="plot"),
    Column("practices", "list", None, "Practices to project, ';'-separated (project/score).", level="plot"),
    Column("current_practices", "list", None, "Practices already in place (the baseline; not credited again), "
           "';'-separated (project/score).", level="plot"),
)

COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required == "required")
SOC_COLUMNS = ("soc_g_kg", "soc_pct", "som_pct")

# Unit suffixes accepted in column names, for quantities given in a non-canonical unit,
# e.g. "bulk_density_kg_m3" or "soc_permille". Maps the suffix to a pint unit string.
UNIT_SUFFIXES: dict[str, str] = {
    "pct": "percent",
    "percent": "percent",
    "permille": "permille",
    "g_kg": "g/kg",
    "mg_g": "mg/g",
    "g_g": "g/g",
    "fraction": "dimensionless",
    "g_cm3": "g/cm**3",
    "kg_m3": "kg/m**3",
    "mg_m3": "Mg/m**3",
    "t_m3": "t/m**3",
    "kg_dm3": "kg/dm**3",
    "g_100g": "g/(100 g)",
    "dag_kg": "dag/kg",
    "cm": "cm",
    "mm": "mm",
    "m": "m",
    "ha": "ha",
    "m2": "m**2",
    "acre": "acre",
}

# Canonical column for each quantity that may arrive in another unit.
CANONICAL: dict[str, str] = {
    "soc": "soc_g_kg",
    "organic_carbon": "soc_g_kg",
    "som": "som_pct",
    "bulk_density": "bulk_density_g_cm3",
    "bd": "bulk_density_g_cm3",
    "coarse_fragments": "coarse_fragments_pct",
    "coarse_fragments_mass": "coarse_fragments_mass_pct",
    "fine_earth": "fine_earth_pct",
    "clay": "clay_pct",
    "silt": "silt_pct",
    "sand": "sand_pct",
    "top": "top_cm",
    "bottom": "bottom_cm",
    "area": "area_ha",
}


# Header names labs and data sets use (English, French, German, Spanish, Portuguese,
# Italian) are package data: data/header_aliases.csv, read by fourp1000.io.headers.


def schema_frame() -> pd.DataFrame:
    """The input model as a table (column, unit, required, range, level, description)."""
    import pandas as pd  # here, so the input model itself is cheap to import

    rows = []
    for c in COLUMNS:
        if c.low is None and c.high is None:
            rng = ""
        else:
            left = "(" if c.low_open else "["
            rng = f"{left}{_fmt(c.low)}, {_fmt(c.high)}]"
        rows.append(
            {
                "column": c.name,
                "unit": c.unit or "",
                "required": c.required,
                "valid_range": rng,
                "level": c.level,
                "description": c.description,
            }
        )
    return pd.DataFrame(rows)


def _fmt(value: float | None) -> str:
    if value is None:
        return "∞"
    return f"{value:g}"


def schema_markdown() -> str:
    """The input model as a Markdown table (used for docs/input-format.md)."""
    frame = schema_frame()
    lines = [
        "| column | unit | required | valid range | level | description |",
        "|---|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        lines.append(
            f"| `{row.column}` | {row.unit} | {row.required} | {row.valid_range} | {row.level} | {row.description} |"
        )
    return "\n".join(lines) + "\n"
