//! Form controls that more than one form uses, each with its label or legend (so none can
//! be left without one): the keywords box, the ways of working together, and a choice of
//! one value with what it means written beside it.

use maud::{Markup, html};

use super::Messages;
use crate::dto::faculty::CollaborationType;

/// A comma-separated keywords box, with how to write it.
pub fn keywords(m: &Messages, value: &str) -> Markup {
    html! {
        p {
            label for="keywords" { (m.field_keywords) }
            input #keywords name="keywords" value=(value) aria-describedby="keywords-hint";
            span.hint #keywords-hint { (m.keywords_hint) }
        }
    }
}

/// Checkboxes of the ways of working together, named `name`, those in `chosen` ticked.
pub fn ways_of_working<S: AsRef<str>>(
    m: &Messages,
    name: &str,
    legend: &str,
    chosen: &[S],
) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            @for t in CollaborationType::ALL {
                label.choice {
                    input type="checkbox" name=(name) value=(t.as_str())
                        checked[chosen.iter().any(|c| c.as_ref() == t.as_str())];
                    " " (m.value(t.as_str()))
                }
            }
        }
    }
}

/// Radio buttons for one of `options` (a stored value's wire name and what choosing it
/// means), `chosen` selected.
pub fn explained_choice(
    m: &Messages,
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    chosen: &str,
) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            @for (value, meaning) in options {
                label.choice.block {
                    input type="radio" name=(name) value=(value) checked[*value == chosen];
                    " " strong { (m.value(value)) } ": " (meaning)
                }
            }
        }
    }
}
