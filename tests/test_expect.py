"""graders.expect's messages show the difference: a near miss prints enough digits to see
where the numbers differ, and a NaN or inf from the learner's function is named as such."""

from __future__ import annotations

import numpy as np
import pytest

from graders import expect


def test_a_near_miss_prints_the_digits_where_the_numbers_differ():
    with pytest.raises(AssertionError) as failure:
        expect.close([2.8856812], [2.885681], what="loss(x)")
    assert "got 2.8856812, expected 2.885681" in str(failure.value)
    assert "> tolerance" in str(failure.value)


def test_numbers_far_apart_keep_six_significant_digits():
    assert expect.distinct(1.0, 2.0) == ("1", "2")
    assert expect.distinct(12.25271234, 12.25269) == ("12.25271", "12.25269")


def test_nan_and_inf_from_the_learners_function_are_named_with_where():
    with pytest.raises(AssertionError) as failure:
        expect.close([1.0, np.nan, np.inf], [1.0, 2.0, 3.0], what="softmax(z)")
    message = str(failure.value)
    assert message.startswith("softmax(z) returned 1 NaN and 1 inf")
    assert "first at index (1,)" in message


def test_a_call_that_should_raise_shows_what_it_returned_on_one_line():
    class Layered:
        def __repr__(self):
            return "Model(\n  (fc1): Linear()\n)"

    with pytest.raises(AssertionError) as failed:
        expect.raises(ValueError, lambda: Layered(), what="apply_plan", why="a bad plan")
    assert "returned Model( (fc1): Linear() ) for a bad plan" in str(failed.value)
