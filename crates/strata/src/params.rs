//! Statement parameters: positional (`?`, `?NNN`) and named (`:a`, `@a`, `$a`).

use crate::error::{Error, Result};
use crate::statement::Statement;
use crate::value::{ToValue, Value};

/// A set of parameter values for [`Statement::execute`], [`Statement::query`],
/// [`Connection::execute`](crate::Connection::execute) and friends (rusqlite's `Params`).
///
/// - `()` (or [`NO_PARAMS`](crate::NO_PARAMS)): bind nothing; values bound earlier with
///   [`Statement::bind`] stay.
/// - positional: [`params!`](crate::params), `&[&dyn ToValue]`, `[T; N]` and `&[T]` of one
///   [`ToValue`] type, tuples of up to 8 values, [`params_from_iter`]. The number of
///   values must equal [`Statement::parameter_count`]; value `i` binds parameter `i + 1`
///   (so `?3` takes the third value).
/// - named: [`named_params!`](crate::named_params) or `&[(&str, &dyn ToValue)]`; names
///   include their prefix (`":a"`, `"@a"`, `"$a"`). Unknown names are an error.
///
/// Positional and named sets clear earlier bindings first (unbound parameters are NULL).
pub trait Params {
    /// Binds the values to `stmt` (which is reset, not running).
    fn bind_to(self, stmt: &mut Statement) -> Result<()>;
}

fn bind_positional<I>(stmt: &mut Statement, values: I) -> Result<()>
where
    I: ExactSizeIterator<Item = Value>,
{
    let expected = stmt.parameter_count();
    if values.len() != expected {
        return Err(Error::InvalidParameterCount {
            given: values.len(),
            expected,
        });
    }
    stmt.clear_bindings();
    for (i, v) in values.enumerate() {
        // The owned value as it is (`bind` would convert it again: a clone of each text).
        stmt.bind_value(i + 1, v)?;
    }
    Ok(())
}

fn bind_named<'a, I>(stmt: &mut Statement, values: I) -> Result<()>
where
    I: Iterator<Item = (&'a str, Value)>,
{
    stmt.clear_bindings();
    for (name, v) in values {
        let index = stmt
            .parameter_index(name)
            .ok_or_else(|| Error::InvalidParameterName(name.to_string()))?;
        stmt.bind_value(index, v)?;
    }
    Ok(())
}

impl Params for () {
    fn bind_to(self, _stmt: &mut Statement) -> Result<()> {
        Ok(())
    }
}

impl<T: ToValue, const N: usize> Params for [T; N] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.iter().map(|v| v.to_value()))
    }
}

impl<T: ToValue, const N: usize> Params for &[T; N] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.iter().map(|v| v.to_value()))
    }
}

impl<T: ToValue> Params for &[T] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.iter().map(|v| v.to_value()))
    }
}

impl<T: ToValue> Params for &Vec<T> {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.iter().map(|v| v.to_value()))
    }
}

impl<T: ToValue> Params for Vec<T> {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.iter().map(|v| v.to_value()))
    }
}

impl Params for &[(&str, &dyn ToValue)] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_named(stmt, self.iter().map(|(n, v)| (*n, v.to_value())))
    }
}

impl<const N: usize> Params for &[(&str, &dyn ToValue); N] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_named(stmt, self.iter().map(|(n, v)| (*n, v.to_value())))
    }
}

impl<const N: usize> Params for [(&str, &dyn ToValue); N] {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_named(stmt, self.iter().map(|(n, v)| (*n, v.to_value())))
    }
}

macro_rules! tuple_params {
    ($count:literal : $($name:ident $idx:tt),+) => {
        impl<$($name: ToValue),+> Params for ($($name,)+) {
            fn bind_to(self, stmt: &mut Statement) -> Result<()> {
                let values = [$(self.$idx.to_value()),+];
                bind_positional(stmt, values.into_iter())
            }
        }
    };
}
tuple_params!(1: A 0);
tuple_params!(2: A 0, B 1);
tuple_params!(3: A 0, B 1, C 2);
tuple_params!(4: A 0, B 1, C 2, D 3);
tuple_params!(5: A 0, B 1, C 2, D 3, E 4);
tuple_params!(6: A 0, B 1, C 2, D 3, E 4, F 5);
tuple_params!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_params!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// Positional parameters from an iterator (rusqlite's `params_from_iter`).
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// let conn = strata::Connection::open_in_memory()?;
/// let ids = vec![1, 2, 3];
/// let n: i64 = conn.query_row(
///     "SELECT ?1 + ?2 + ?3",
///     strata::params_from_iter(ids.iter()),
///     |r| r.get(0),
/// )?;
/// # Ok(()) }
/// ```
pub fn params_from_iter<I>(iter: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: ToValue,
{
    ParamsFromIter(iter.into_iter().map(|v| v.to_value()).collect())
}

/// See [`params_from_iter`].
pub struct ParamsFromIter(Vec<Value>);

impl Params for ParamsFromIter {
    fn bind_to(self, stmt: &mut Statement) -> Result<()> {
        bind_positional(stmt, self.0.into_iter())
    }
}

/// Positional parameters: `params![1, "x", None::<i64>]` is a
/// `&[&dyn ToValue]` (rusqlite's `params!`).
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// use strata::params;
/// let conn = strata::Connection::open_in_memory()?;
/// conn.execute("CREATE TABLE t(a, b)", ())?;
/// conn.execute("INSERT INTO t VALUES (?, ?)", params![1, "x"])?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::ToValue]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::ToValue),+] as &[&dyn $crate::ToValue]
    };
}

/// Named parameters: `named_params! { ":a": 1, "@b": "x" }` is a
/// `&[(&str, &dyn ToValue)]` (rusqlite's `named_params!`).
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// use strata::named_params;
/// let conn = strata::Connection::open_in_memory()?;
/// let s: String = conn.query_row("SELECT :a || $b", named_params! {":a": "x", "$b": 2}, |r| r.get(0))?;
/// assert_eq!(s, "x2");
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! named_params {
    () => {
        &[] as &[(&str, &dyn $crate::ToValue)]
    };
    ($($name:literal : $value:expr),+ $(,)?) => {
        &[$(($name, &$value as &dyn $crate::ToValue)),+] as &[(&str, &dyn $crate::ToValue)]
    };
}
