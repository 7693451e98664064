"""What would it take? The carbon input and the practices each plot needs to reach 4 per 1000.

The library behind ``fourp1000 plan`` (docs/plan.md). Above :mod:`fourp1000.projection`
and :mod:`fourp1000.uncertainty`, whose functions it calls unchanged:

* :mod:`~fourp1000.plan.sets` -- the candidate practice sets of each plot (applicable,
  additional, accepted by ``project``) and how sets of one size are ranked (cost, then
  disruption: ``data/plan_disruption.csv``);
* :mod:`~fourp1000.plan.search` -- every (plot, set) pair projected by ``project``'s
  models at once; the smallest set that meets 4 per 1000;
* :mod:`~fourp1000.plan.inputs` -- the extra plant or manure C input solved with RothC;
* :mod:`~fourp1000.plan.confidence` -- the set that meets 4 per 1000 with a probability;
* :mod:`~fourp1000.plan.farms` -- farm totals through :mod:`fourp1000.stocks.farms`;
* :mod:`~fourp1000.plan.core` -- :func:`plan_table`, the entry point.
"""

from __future__ import annotations

from .core import STATUSES, PlanOptions, PlanResult, plan_table, practice_set_label
from .farms import FARM_COLUMNS, plan_farms
from .inputs import INPUT_COLUMNS, extra_inputs, unit_response
from .sets import CandidateSets, available_practices, candidate_sets, disruption_ranks, read_costs

__all__ = ["STATUSES", "PlanOptions", "PlanResult", "plan_table", "practice_set_label", "FARM_COLUMNS", "plan_farms",
           "INPUT_COLUMNS", "extra_inputs", "unit_response", "CandidateSets", "available_practices",
           "candidate_sets", "disruption_ranks", "read_costs"]
