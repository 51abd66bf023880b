//! Volatility of default expressions, from the function table generated out of PostgreSQL's own catalog
//! (`volatility_table.rs`, made by `scripts/gen-volatility.sh`). Unknown functions count as volatile.

use super::volatility_table::VOLATILITY;

/// A function's (or an expression's) volatility, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Volatility {
    /// Same inputs, same result, forever.
    Immutable,
    /// Same result within one statement (`now()`).
    Stable,
    /// May change on every call (`random()`, `nextval()`), or unknown.
    Volatile,
}

/// The volatility of a set of called functions: the worst of them; a function not in PostgreSQL's
/// catalog (a user function zdm cannot see) counts as volatile.
#[must_use]
pub fn volatility_of(calls: &[String]) -> Volatility {
    calls
        .iter()
        .map(|name| match VOLATILITY.binary_search_by(|(n, _)| n.cmp(&name.as_str())) {
            Ok(i) => match VOLATILITY[i].1 {
                b'i' => Volatility::Immutable,
                b's' => Volatility::Stable,
                _ => Volatility::Volatile,
            },
            Err(_) => Volatility::Volatile,
        })
        .max()
        .unwrap_or(Volatility::Immutable)
}

/// True for a function PostgreSQL ships (in its `pg_proc` catalog); false for user and extension functions.
#[must_use]
pub fn is_builtin(name: &str) -> bool {
    VOLATILITY.binary_search_by(|(n, _)| n.cmp(&name)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Volatility {
        volatility_of(&names.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn catalog_volatility() {
        assert_eq!(v(&[]), Volatility::Immutable);
        assert_eq!(v(&["lower"]), Volatility::Immutable);
        assert_eq!(v(&["now"]), Volatility::Stable);
        assert_eq!(v(&["random"]), Volatility::Volatile);
        assert_eq!(v(&["gen_random_uuid"]), Volatility::Volatile);
        assert_eq!(v(&["clock_timestamp"]), Volatility::Volatile);
        assert_eq!(v(&["lower", "now"]), Volatility::Stable);
        assert_eq!(v(&["my_own_function"]), Volatility::Volatile);
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(VOLATILITY.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
