//! Allocation periods: a named month (`2027-01`), quarter (`2027-Q1`) or year (`2027`), and the
//! dates it covers. A resource says which length its periods have; an allocation names one.

use chrono::{Datelike, NaiveDate};

use super::stored::PeriodLength;
use crate::error::{FieldCode, FieldError};

/// A period of a known length: its canonical name and its first and last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Years a period may fall in: far enough for any real plan, and inside what dates hold.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl Period {
    /// Parses `value` as a period of `length`; the error says what shape is expected.
    pub fn parse(field: &str, length: PeriodLength, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let shape = match length {
            PeriodLength::Month => "a month like 2027-01",
            PeriodLength::Quarter => "a quarter like 2027-Q1",
            PeriodLength::Year => "a year like 2027",
        };
        let bad = || {
            FieldError::new(
                field,
                FieldCode::InvalidPeriod,
                format!(
                    "must be {shape} (this resource allocates by the {length}), in {}-{}",
                    YEARS.start(),
                    YEARS.end()
                ),
            )
        };
        let year_of = |s: &str| {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i32>().ok())
                .flatten()
                .filter(|y| YEARS.contains(y))
        };
        let (year, first_month, months) = match length {
            PeriodLength::Year => (year_of(value).ok_or_else(bad)?, 1, 12),
            PeriodLength::Quarter => {
                let (y, q) = value.split_once("-Q").ok_or_else(bad)?;
                let q: u32 = match q {
                    "1" => 1,
                    "2" => 2,
                    "3" => 3,
                    "4" => 4,
                    _ => return Err(bad()),
                };
                (year_of(y).ok_or_else(bad)?, (q - 1) * 3 + 1, 3)
            }
            PeriodLength::Month => {
                let (y, m) = value.split_once('-').ok_or_else(bad)?;
                let m: u32 = (m.len() == 2)
                    .then(|| m.parse().ok())
                    .flatten()
                    .filter(|m| (1..=12).contains(m))
                    .ok_or_else(bad)?;
                (year_of(y).ok_or_else(bad)?, m, 1)
            }
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
        let end = start
            .checked_add_months(chrono::Months::new(months))
            .and_then(|d| d.pred_opt())
            .ok_or_else(bad)?;
        Ok(Self {
            name: Self::name_of(length, start),
            start,
            end,
        })
    }

    /// The period of `length` that contains `day`.
    pub fn containing(length: PeriodLength, day: NaiveDate) -> Option<Self> {
        Self::parse("period", length, &Self::name_of(length, day)).ok()
    }

    /// The period right after this one.
    pub fn next(&self, length: PeriodLength) -> Option<Self> {
        Self::containing(length, self.end.succ_opt()?)
    }

    fn name_of(length: PeriodLength, day: NaiveDate) -> String {
        match length {
            PeriodLength::Year => format!("{:04}", day.year()),
            PeriodLength::Quarter => format!("{:04}-Q{}", day.year(), (day.month() - 1) / 3 + 1),
            PeriodLength::Month => format!("{:04}-{:02}", day.year(), day.month()),
        }
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_their_dates() -> Result<(), FieldError> {
        let q = Period::parse("p", PeriodLength::Quarter, "2027-Q4")?;
        assert_eq!(
            q.start,
            NaiveDate::from_ymd_opt(2027, 10, 1).unwrap_or_default()
        );
        assert_eq!(
            q.end,
            NaiveDate::from_ymd_opt(2027, 12, 31).unwrap_or_default()
        );
        let m = Period::parse("p", PeriodLength::Month, "2028-02")?;
        assert_eq!(m.days(), 29);
        let y = Period::parse("p", PeriodLength::Year, " 2027 ")?;
        assert_eq!((y.name.as_str(), y.days()), ("2027", 365));
        assert_eq!(
            q.next(PeriodLength::Quarter).map(|p| p.name).as_deref(),
            Some("2028-Q1")
        );
        for bad in [
            "2027-Q5",
            "2027-Q",
            "27-Q1",
            "2027-1",
            "2027",
            "1999-Q1",
            "２０２７-Q1",
        ] {
            assert!(
                Period::parse("p", PeriodLength::Quarter, bad).is_err(),
                "{bad}"
            );
        }
        assert!(Period::parse("p", PeriodLength::Month, "2027-13").is_err());
        assert!(Period::parse("p", PeriodLength::Year, "2027-Q1").is_err());
        Ok(())
    }
}
