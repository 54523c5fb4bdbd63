"""Factor sets: published emission factors with their provenance, loaded from TOML.

A factor set is one TOML file (format: ``factors/README.md``). Loading it checks every
quantity with pint (unit known, dimension right, value finite and >= 0), checks that
every number names its source and where in the source it is, resolves how each mode's
factor becomes grams per passenger-km (directly; per vehicle-km divided by occupancy;
energy per km times the grid's carbon intensity; or a product of other factors), and
keeps the result as floats. A set is identified by its name and the SHA-256 of its
parsed content, so a result can always name the exact numbers that produced it.
"""

from carbonfoot.factors.factor_set import FactorSet
from carbonfoot.factors.loader import content_hash, load_factor_set, read_document
from carbonfoot.factors.model import (
    DerivationStep,
    Factor,
    ResolvedFactor,
    Source,
    Uncertainty,
    Validity,
)

__all__ = [
    "DerivationStep",
    "Factor",
    "FactorSet",
    "ResolvedFactor",
    "Source",
    "Uncertainty",
    "Validity",
    "content_hash",
    "load_factor_set",
    "read_document",
]
