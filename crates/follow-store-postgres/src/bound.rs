//! Statements assembled from optional parts, their parameters numbered in
//! the order they are bound: a part left out binds nothing, so no
//! placeholder goes unused.

use tokio_postgres::types::ToSql;

/// The parameters of one statement being assembled.
#[derive(Default)]
pub(crate) struct Bound<'a> {
    params: Vec<&'a (dyn ToSql + Sync)>,
}

impl<'a> Bound<'a> {
    /// Binds `value` as the next parameter and answers its placeholder.
    pub(crate) fn bind(&mut self, value: &'a (dyn ToSql + Sync)) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// The parameters, in placeholder order.
    pub(crate) fn params(&self) -> &[&'a (dyn ToSql + Sync)] {
        &self.params
    }
}
