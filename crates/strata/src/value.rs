//! SQL values as the API hands them out and takes them in: [`Value`] (owned),
//! [`ValueRef`] (borrowed from a row), [`ToValue`] (anything bindable) and [`FromValue`]
//! (anything a column can be read as).

use std::borrow::Cow;
use std::fmt;

use strata_vdbe::Value as EngineValue;
use strata_vdbe::ValueRef as EngineValueRef;

/// The storage class of a value (what SQL's `typeof()` reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Null,
    Integer,
    Real,
    Text,
    Blob,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Null => "Null",
            Type::Integer => "Integer",
            Type::Real => "Real",
            Type::Text => "Text",
            Type::Blob => "Blob",
        })
    }
}

/// An owned SQL value.
///
/// Text is kept as the bytes the engine stores. SQLite (and so Strata) does not require
/// text to be valid UTF-8, so `Text` holds `Vec<u8>`; [`Value::as_str`] gives a `&str`
/// when the bytes are UTF-8, and reading a column as `String` fails with
/// [`Error::Utf8`](crate::Error::Utf8) instead of silently replacing bytes.
///
/// ```
/// use strata::Value;
/// let v = Value::from("héllo");
/// assert_eq!(v.as_str(), Some("héllo"));
/// assert_eq!(Value::from(42i64), Value::Integer(42));
/// assert_eq!(Value::from(None::<i64>), Value::Null);
/// assert_eq!(Value::Real(1.0).to_text().as_deref(), Some(&b"1.0"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Integer(i64),
    Real(f64),
    /// Text as bytes (normally UTF-8, but not guaranteed).
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Value {
    /// A text value from a string.
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into().into_bytes())
    }

    /// The storage class.
    pub fn data_type(&self) -> Type {
        self.as_value_ref().data_type()
    }

    /// Borrows the value.
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }

    /// The text as `&str` if this is a text value holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_value_ref().as_str()
    }

    /// The bytes of a text or blob value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        self.as_value_ref().as_bytes()
    }

    /// The integer, if this is an integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The real (integers converted), if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value rendered as SQLite renders it as TEXT (`CAST(x AS TEXT)`,
    /// `sqlite3_column_text`): integers in decimal, reals by `"%!.15g"` (`1.0`,
    /// `1.0e+20`), text and blob bytes as they are; `None` for NULL.
    pub fn to_text(&self) -> Option<Cow<'_, [u8]>> {
        self.as_value_ref().to_text()
    }

    pub(crate) fn into_engine(self) -> EngineValue {
        match self {
            Value::Null => EngineValue::Null,
            Value::Integer(i) => EngineValue::Integer(i),
            Value::Real(r) => EngineValue::Real(r),
            Value::Text(t) => EngineValue::Text(t),
            Value::Blob(b) => EngineValue::Blob(b),
        }
    }
}

/// Displays the value as `sqlite3` prints it in list mode (NULL as the empty string,
/// bytes lossily as UTF-8).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_value_ref().fmt(f)
    }
}

/// A value borrowed from a result row (valid until the statement steps again).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    pub fn data_type(&self) -> Type {
        match self {
            ValueRef::Null => Type::Null,
            ValueRef::Integer(_) => Type::Integer,
            ValueRef::Real(_) => Type::Real,
            ValueRef::Text(_) => Type::Text,
            ValueRef::Blob(_) => Type::Blob,
        }
    }

    /// The text as `&str` if this is a text value holding valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            ValueRef::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }

    /// The bytes of a text or blob value.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(t),
            _ => None,
        }
    }

    /// See [`Value::to_text`].
    pub fn to_text(&self) -> Option<Cow<'a, [u8]>> {
        match *self {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(Cow::Borrowed(t)),
            ValueRef::Integer(i) => {
                let mut out = Vec::with_capacity(20);
                strata_vdbe::numeric::i64_to_text(i, &mut out);
                Some(Cow::Owned(out))
            }
            ValueRef::Real(r) => Some(Cow::Owned(strata_vdbe::numeric::real_to_string(r))),
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(t.to_vec()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    pub(crate) fn from_engine(v: &'a EngineValue) -> ValueRef<'a> {
        match v.as_ref() {
            EngineValueRef::Null => ValueRef::Null,
            EngineValueRef::Integer(i) => ValueRef::Integer(i),
            EngineValueRef::Real(r) => ValueRef::Real(r),
            EngineValueRef::Text(t) => ValueRef::Text(t),
            EngineValueRef::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_text() {
            None => Ok(()),
            Some(t) => f.write_str(&String::from_utf8_lossy(&t)),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        v.as_value_ref()
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        v.to_owned()
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Integer(v as i64) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32, isize);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Integer(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Real(v as f64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.as_bytes().to_vec())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v.into_bytes())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.as_bytes().to_vec())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        match v {
            Some(v) => v.into(),
            None => Value::Null,
        }
    }
}

/// Anything that can be bound to a statement parameter (rusqlite's `ToSql`).
///
/// Implemented for the integer types up to `i64`/`u32`, `bool`, `f32`/`f64`, `str`,
/// `String`, `[u8]`/`Vec<u8>` (blobs), [`Value`], [`ValueRef`], `Option<T>` (None = NULL)
/// and references to any of these.
///
/// ```
/// use strata::{ToValue, Value};
/// assert_eq!("x".to_value(), Value::text("x"));
/// assert_eq!(Some(3).to_value(), Value::Integer(3));
/// ```
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! to_value_via_from {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value { Value::from(*self) }
        }
    )*};
}
to_value_via_from!(i8, i16, i32, i64, u8, u16, u32, isize, bool, f32, f64);

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::from(self)
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::from(self.as_str())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for ValueRef<'_> {
    fn to_value(&self) -> Value {
        self.to_owned()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue + ?Sized> ToValue for Box<T> {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

/// Why a value could not be read as the requested Rust type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromValueError {
    /// The storage class does not convert to the type.
    InvalidType,
    /// An integer does not fit the target integer type.
    OutOfRange(i64),
    /// Text that is not valid UTF-8 was read as a `String`.
    Utf8,
}

/// Anything a column value can be read as (rusqlite's `FromSql`), for
/// [`Row::get`](crate::Row::get).
///
/// Conversions are strict like rusqlite's: an integer column does not read as `String`
/// and text does not read as `i64` (both fail with
/// [`Error::InvalidColumnType`](crate::Error::InvalidColumnType)); reals accept integers;
/// `Vec<u8>` accepts blobs and text; `Option<T>` maps NULL to `None`; [`Value`] accepts
/// everything.
pub trait FromValue: Sized {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError>;
}

impl FromValue for i64 {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            _ => Err(FromValueError::InvalidType),
        }
    }
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| FromValueError::OutOfRange(i))
            }
        }
    )*};
}
from_value_int!(i8, i16, i32, u8, u16, u32, u64, usize, isize);

impl FromValue for bool {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        Ok(i64::from_value(v)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        match v {
            ValueRef::Integer(i) => Ok(i as f64),
            ValueRef::Real(r) => Ok(r),
            _ => Err(FromValueError::InvalidType),
        }
    }
}

impl FromValue for f32 {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        f64::from_value(v).map(|r| r as f32)
    }
}

impl FromValue for String {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        match v {
            ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|_| FromValueError::Utf8),
            _ => Err(FromValueError::InvalidType),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            _ => Err(FromValueError::InvalidType),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        Ok(v.to_owned())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self, FromValueError> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(i64::from_value(ValueRef::Integer(5)), Ok(5));
        assert_eq!(
            i64::from_value(ValueRef::Text(b"5")),
            Err(FromValueError::InvalidType)
        );
        assert_eq!(
            i8::from_value(ValueRef::Integer(300)),
            Err(FromValueError::OutOfRange(300))
        );
        assert_eq!(f64::from_value(ValueRef::Integer(2)), Ok(2.0));
        assert_eq!(
            String::from_value(ValueRef::Text(b"\xff")),
            Err(FromValueError::Utf8)
        );
        assert_eq!(Option::<i64>::from_value(ValueRef::Null), Ok(None));
        assert_eq!(bool::from_value(ValueRef::Integer(2)), Ok(true));
        assert_eq!(Value::Real(1e20).to_string(), "1.0e+20");
        assert_eq!(Value::Null.to_string(), "");
        assert_eq!(Value::from(true), Value::Integer(1));
    }
}
