from datetime import date

from intake.rules import add_months, add_years, age_on


def test_six_months_after_31_august_is_28_february():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)


def test_six_months_after_31_august_before_a_leap_year_is_29_february():
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)


def test_add_months_keeps_the_day_number_when_it_exists():
    assert add_months(date(2025, 1, 15), 1) == date(2025, 2, 15)


def test_add_months_crosses_years_in_both_directions():
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 10), -13) == date(2023, 12, 10)


def test_add_months_zero_is_the_same_day():
    assert add_months(date(2024, 2, 29), 0) == date(2024, 2, 29)


def test_twelve_months_after_29_february_is_28_february():
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_a_year_after_29_february_is_1_march_for_ages():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_age_counts_completed_years():
    assert age_on(date(2000, 6, 15), date(2025, 6, 14)) == 24
    assert age_on(date(2000, 6, 15), date(2025, 6, 15)) == 25


def test_the_birthday_itself_counts_as_a_completed_year():
    assert age_on(date(2007, 3, 1), date(2025, 3, 1)) == 18


def test_29_february_birthday_turns_18_on_1_march_in_a_non_leap_year():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18


def test_29_february_birthday_turns_a_year_older_on_29_february_in_a_leap_year():
    assert age_on(date(2004, 2, 29), date(2024, 2, 28)) == 19
    assert age_on(date(2004, 2, 29), date(2024, 2, 29)) == 20
