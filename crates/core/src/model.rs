//! The model a run assumed, printed at the top of every run.
//!
//! The talk's first lesson is that a result means nothing without its model. Every driver
//! builds a [`ModelHeader`] and prints it first: `timing=… failures=… links=… n=… seed=…`.

use std::fmt;

/// An ordered list of `key=value` facts describing a run's model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelHeader {
    fields: Vec<(String, String)>,
}

impl ModelHeader {
    /// An empty header.
    pub fn new() -> Self {
        ModelHeader::default()
    }

    /// Adds (or replaces) `key=value`, keeping first-insertion order.
    pub fn set(&mut self, key: impl Into<String>, value: impl fmt::Display) -> &mut Self {
        let key = key.into();
        let value = value.to_string();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.fields.push((key, value)),
        }
        self
    }

    /// Builder form of [`ModelHeader::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl fmt::Display) -> Self {
        self.set(key, value);
        self
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The fields in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }
}

impl fmt::Display for ModelHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}
