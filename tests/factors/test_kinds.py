"""What a factor's number is: measured, a definition or a constant, and its physical limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbonfoot.errors import FactorError
from carbonfoot.factors import load_factor_set
from carbonfoot.plugins import Catalog
from tests.factors.test_loader import VALID, write

FRACTION = """
[factors.oxidation]
value = "0.98"
at_most = "1"
source = "pub"
locator = "Table 7"
[factors.c-to-co2]
value = "3.6666666666666665"
kind = "constant"
source = "pub"
locator = "44/12"
"""


def test_kinds_default_from_the_source_and_can_be_stated(tmp_path: Path) -> None:
    factor_set = load_factor_set(write(tmp_path, VALID + FRACTION))
    kinds = {key: variants[0].kind for key, variants in factor_set.factors.items()}
    assert kinds["walk"] == "definition"  # its source is a definition
    assert kinds["one"] == "definition"
    assert kinds["bus"] == "measured"
    assert kinds["c-to-co2"] == "constant"
    assert not factor_set.factors["c-to-co2"][0].is_measured
    assert factor_set.factors["oxidation"][0].at_most == 1.0
    assert factor_set.factors["bus"][0].at_most == float("inf")


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            'value = "0 g / km"\nper = "passenger"\nsource = "def"',
            'value = "0 g / km"\nper = "passenger"\nsource = "def"\nkind = "measured"',
            "[factors.walk].kind",
            "its source 'def' is a definition",
        ),
        ('kind = "constant"', 'kind = "guess"', "[factors.c-to-co2].kind", "not one of"),
        (
            'kind = "constant"',
            'kind = "constant"\nuncertainty = { distribution = "uniform", low = "3", high = "4", source = "x" }',
            "[factors.c-to-co2].uncertainty",
            "a constant is exact",
        ),
        ('value = "0.98"', 'value = "1.02"', "[factors.oxidation].value", "above at_most"),
        (
            'at_most = "1"',
            'at_most = "1"\nuncertainty = { distribution = "uniform", low = "0.9", high = "1.1", source = "x" }',
            "[factors.oxidation].uncertainty",
            "reaches above at_most",
        ),
        ('at_most = "1"', 'at_most = "1 kg"', "[factors.oxidation].at_most", "but the factor is"),
    ],
)
def test_a_kind_or_limit_that_cannot_hold_names_file_and_key(
    tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    text = VALID + FRACTION
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(FactorError, match=re.escape(message)) as caught:
        load_factor_set(path)
    assert where in str(caught.value)


def test_a_derived_factor_has_no_kind_of_its_own(tmp_path: Path) -> None:
    derived = '[factors.twice]\nproduct = ["bus", "one"]\nper = "passenger"\nsource = "pub"\nkind = "constant"\n'
    with pytest.raises(FactorError, match=r"\[factors.twice\].kind: applies to a value"):
        load_factor_set(write(tmp_path, VALID + derived))


def test_shipped_definitions_and_constants_are_marked(catalog: Catalog) -> None:
    """Every shipped number citing a definition is one; 44/12 is a constant; the
    oxidation fraction cannot pass 100 %; no exact number carries an uncertainty."""
    nanjing = catalog.factor_set("cn-nanjing")
    assert nanjing.factors["co2-per-carbon"][0].kind == "constant"
    assert nanjing.factors["co2-per-carbon"][0].base == pytest.approx(44 / 12)
    assert nanjing.factors["gasoline-oxidation"][0].at_most == 1.0
    for name in catalog.factor_sets:
        for factor in catalog.factor_set(name).literal_variants():
            assert (factor.kind == "definition") == (factor.source.kind == "definition"), (
                name,
                factor.key,
            )
            if factor.kind != "measured":
                assert factor.uncertainty is None, (name, factor.key)
