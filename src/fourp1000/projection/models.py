"""The projection models, one registry entry each.

A model is a :class:`ProjectionModel`: its name, a short description, whether it needs a
monthly climate table, and four functions of the plot table and the
:class:`~fourp1000.projection.table.ProjectOptions`:

* ``validate(plots, options)``: every reason the model would refuse a plot, as errors
  naming their rows (:class:`~fourp1000.errors.FourP1000Error` ``rows``), without
  projecting anything;
* ``project(plots, options)``: a :class:`ModelRun` for plots that passed ``validate``;
* ``trajectory(run, options)``: yearly stocks (``plot_id``, ``year``, ``stock_t_ha``);
* ``method_statement(options)``: the line printed as ``Method: ...``.

A model may also give ``prepare(plots, options)``: its validation that keeps what it
resolved on the way (a :class:`Prepared`). ``validate`` is then ``prepare(...).errors``, and
:func:`~fourp1000.projection.table.project_table` hands the prepared inputs to ``project``
(keyword ``prepared``) when it projects exactly the plots validated, so that a large table
is parsed and checked once, not twice. And it may give ``baselines(plots, options)``: what
projecting each plot needs that its practices do not change (RothC: drivers and the fitted
baseline), resolved once for ``plan``, which projects every plot under many practice sets
and hands each (plot, set) row its plot's part (``project(..., baselines=...)``).

Adding a model is one module (its science) plus one :func:`register` call.
:func:`fourp1000.projection.table.project_table`, the CLI's ``--model`` and the summary
line loop over :data:`MODELS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

from ..errors import FourP1000Error, InputError

if TYPE_CHECKING:  # the registry stays light to import (the CLI reads it for --model's help)
    import pandas as pd

    from .table import ProjectOptions
    from .yearly import YearlyStocks


@dataclass
class ModelRun:
    """What a model's ``project`` returns.

    Attributes
    ----------
    plots : pandas.DataFrame
        One row per projected plot (``plot_id`` first, ``source_row`` where given).
    trajectory : pandas.DataFrame, optional
        Yearly stocks, when the model computes them while projecting.
    problems : list of FourP1000Error
        Plots the model could only refuse while computing (they are not in ``plots``).
    stocks_t_ha : YearlyStocks, optional
        Yearly stocks (years + 1, n) in the order of ``plots``
        (:class:`~fourp1000.projection.yearly.YearlyStocks`: the array is built when asked
        for), from which the model's ``trajectory`` builds the long table only when it is
        asked for.
    """

    plots: pd.DataFrame
    trajectory: pd.DataFrame | None = None
    problems: list[FourP1000Error] = field(default_factory=list)
    stocks_t_ha: YearlyStocks | None = None


@dataclass
class Prepared:
    """What a model's ``prepare`` found.

    Attributes
    ----------
    errors : list of FourP1000Error
        As ``validate`` returns them.
    inputs : object, optional
        The model's resolved inputs of exactly the plots prepared, for its ``project``
        (``prepared=inputs``); None where they cannot be reused (some plot was refused).
    """

    errors: list[FourP1000Error]
    inputs: object | None = None


@dataclass(frozen=True)
class ProjectionModel:
    """One projection model (see the module docstring for the functions' contracts)."""

    name: str
    description: str
    validate: Callable[[pd.DataFrame, "ProjectOptions"], list[FourP1000Error]]
    project: Callable[[pd.DataFrame, "ProjectOptions"], ModelRun]
    trajectory: Callable[[ModelRun, "ProjectOptions"], pd.DataFrame]
    method_statement: Callable[["ProjectOptions"], str]
    needs_climate: bool = False
    supports_uncertainty: bool = False
    prepare: Callable[[pd.DataFrame, "ProjectOptions"], Prepared] | None = None
    #: ``baselines(plots, options)``: what projecting each plot needs that its practices do
    #: not change, resolved once, as an object whose ``take(index)`` gives it for the rows of
    #: a table of those plots (a plot per row, repeated) that ``project`` accepts as
    #: ``baselines=`` (``plan`` projects each plot under many practice sets).
    baselines: Callable[[pd.DataFrame, "ProjectOptions"], object] | None = None


class ModelRegistry(Mapping[str, ProjectionModel]):
    """The projection models by name, in registration order."""

    def __init__(self) -> None:
        self._models: dict[str, ProjectionModel] = {}

    def __getitem__(self, name: str) -> ProjectionModel:
        return self._models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def register(self, model: ProjectionModel) -> ProjectionModel:
        """Add ``model`` (replacing one of the same name)."""
        self._models[model.name] = model
        return model

    def unregister(self, name: str) -> None:
        """Remove a model (tests register temporary ones)."""
        del self._models[name]

    def check(self, models: tuple[str, ...]) -> tuple[str, ...]:
        """``models`` if each is registered and none repeats; :class:`InputError` otherwise."""
        unknown = [m for m in models if m not in self]
        if not models or unknown or len(set(models)) != len(models):
            raise InputError(f"unknown or repeated model in {','.join(models)!r}; valid: {', '.join(self)}")
        return tuple(models)

    def parse(self, text: str) -> tuple[str, ...]:
        """Model names from a comma-separated list (``"ipcc,rothc"``), checked."""
        models = tuple(m.strip().lower() for m in str(text).split(",") if m.strip())
        try:
            return self.check(models)
        except InputError:
            names = list(self)
            raise InputError(f"{text!r}: give {', '.join(names)} or {','.join(names)} "
                             f"(valid models: {', '.join(names)})") from None

    def help(self) -> str:
        """One sentence naming each model, for ``--model``'s help."""
        named = ", ".join(f"{m.name} ({m.description}{', needs --climate' if m.needs_climate else ''})"
                          for m in self.values())
        both = "both" if len(self) == 2 else "all"
        return (f"Projection model: {named}, or {','.join(self)} for {both} side by side "
                "(long format with a model column).")


#: Every projection model, by name.
MODELS = ModelRegistry()
register = MODELS.register


# --------------------------------------------------------------------------------------
# IPCC Tier 1 (fourp1000.projection.tier1)
# --------------------------------------------------------------------------------------


def _ipcc_validate(plots: pd.DataFrame, opts: ProjectOptions) -> list[FourP1000Error]:
    from . import tier1

    return tier1.check_plots(plots, opts.practices, opts.ipcc_version, method=opts.method,
                             tillage_credit=opts.tillage_credit)


def _ipcc_project(plots: pd.DataFrame, opts: ProjectOptions) -> ModelRun:
    from . import tier1, verdict

    result = tier1.project(plots, practices=opts.practices, years=opts.years, ipcc_version=opts.ipcc_version,
                           method=opts.method, rate_years=opts.rate_years, tillage_credit=opts.tillage_credit)
    final30 = result["final_stock_t_ha"].to_numpy(dtype=float)
    result, _ = verdict.rescale(plots, result, final30, cap=opts.cap_at_capacity, years=float(opts.years))
    return ModelRun(result)


def _ipcc_trajectory(run: ModelRun, opts: ProjectOptions) -> pd.DataFrame:
    from . import tier1

    return tier1.trajectory(run.plots, opts.years)


def _ipcc_method(opts: ProjectOptions) -> str:
    if opts.method == "rates":
        return (f"rates method: meta-analysis sequestration rates of the practices, applied for a finite duration; "
                f"horizon {opts.years} yr")
    return (f"IPCC Tier 1 ({opts.ipcc_version}): stock = SOC_REF x F_LU x F_MG x F_I (0-30 cm), or the measured stock "
            f"scaled by the ratio of new to old factor products; linear change over 20 yr, then constant; "
            f"horizon {opts.years} yr; 4 per 1000 met when the mean yearly change >= 4 per mille of the baseline")


register(ProjectionModel("ipcc", "Tier 1 factors", _ipcc_validate, _ipcc_project, _ipcc_trajectory, _ipcc_method,
                         supports_uncertainty=True))


# --------------------------------------------------------------------------------------
# RothC-26.3 (fourp1000.projection.rothc)
# --------------------------------------------------------------------------------------


def _climate(opts: ProjectOptions):
    if opts.climate is None:
        raise InputError("the RothC model needs a monthly climate table (--climate FILE)")
    return opts.climate


def _rothc_prepare(plots: pd.DataFrame, opts: ProjectOptions) -> Prepared:
    try:
        climate = _climate(opts)
    except FourP1000Error as exc:
        return Prepared([exc])
    from . import rothc

    return rothc.prepare_plots(plots, climate, opts.practices, opts.ipcc_version)


def _rothc_validate(plots: pd.DataFrame, opts: ProjectOptions) -> list[FourP1000Error]:
    return _rothc_prepare(plots, opts).errors


def _rothc_project(plots: pd.DataFrame, opts: ProjectOptions, prepared: object = None,
                   baselines: object = None) -> ModelRun:
    from ..io.horizons import is_in
    from . import rothc, verdict

    run = rothc.project_rothc(plots, _climate(opts), practices=opts.practices, years=opts.years,
                              ipcc_version=opts.ipcc_version, skip_unreachable=True, prepared=prepared,
                              baselines=baselines)
    # the plots projected: all of them, in order, unless some were left out (unreachable stocks)
    kept = plots if len(run.plots) == len(plots) else plots[is_in(plots["plot_id"], run.plots["plot_id"])]
    projected = kept.reset_index(drop=True)
    result, stocks = verdict.rescale(projected, run.plots, run.stocks_t_ha, cap=opts.cap_at_capacity,
                                     years=float(opts.years))
    return ModelRun(result, problems=run.problems, stocks_t_ha=stocks)


def _rothc_trajectory(run: ModelRun, opts: ProjectOptions) -> pd.DataFrame:
    from . import rothc

    return rothc.trajectory_table(run.plots["plot_id"], run.stocks_t_ha)


def _rothc_method(opts: ProjectOptions) -> str:
    from . import rothc

    return rothc.method_statement(opts.years)


def _rothc_baselines(plots: pd.DataFrame, opts: ProjectOptions) -> object:
    from . import rothc

    return rothc.plot_baselines(plots, _climate(opts), years=opts.years, ipcc_version=opts.ipcc_version)


register(ProjectionModel("rothc", "RothC-26.3", _rothc_validate, _rothc_project, _rothc_trajectory, _rothc_method,
                         needs_climate=True, prepare=_rothc_prepare, baselines=_rothc_baselines))
