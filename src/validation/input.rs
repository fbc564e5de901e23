//! A request's fields, whatever encoding they arrived in.

use serde_json::{Map, Value};

use crate::error::{Error, FieldErrors};

/// The fields of a JSON object or a form, by name. Forms give strings only.
#[derive(Clone, Debug, Default)]
pub struct Input(Map<String, Value>);

impl Input {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// A JSON document must be an object, as DRF's serializers require.
    pub fn from_json(value: Value) -> Result<Self, Error> {
        let expected = |got: &str| format!("Invalid data. Expected a dictionary, but got {got}.");
        let message = match value {
            Value::Object(map) => return Ok(Input(map)),
            Value::Null => "No data provided".to_owned(),
            Value::Array(_) => expected("list"),
            Value::String(_) => expected("str"),
            Value::Bool(_) => expected("bool"),
            Value::Number(ref n) if n.is_f64() => expected("float"),
            Value::Number(_) => expected("int"),
        };
        Err(Error::Invalid(FieldErrors::single(
            FieldErrors::NON_FIELD,
            message,
        )))
    }

    /// Form fields; when a name repeats, the last value wins (Django's `QueryDict`).
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        Input(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        )
    }

    /// A string field, if present and a string (for optional extras such as a client label).
    pub fn str(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }
}
