//! The buffer behind `WindowOpen`/`WindowAdd`/`WindowCompute`/`WindowNext`: input rows
//! kept in memory (as the sorter keeps its records), computed by `crate::window`.

use std::sync::Arc;

use strata_btree::record::{TextEncoding, Value};

use crate::window::{compute, WindowSpec};

use super::VmError;

pub(crate) struct WinBuf {
    spec: Arc<WindowSpec>,
    rows: Vec<Vec<Value>>,
    /// The output order once computed.
    order: Option<Vec<usize>>,
    /// The next output position.
    pos: usize,
    pub null_row: bool,
}

impl WinBuf {
    pub fn new(spec: Arc<WindowSpec>) -> Self {
        WinBuf {
            spec,
            rows: Vec::new(),
            order: None,
            pos: 0,
            null_row: false,
        }
    }

    pub fn add(&mut self, regs: &[Value]) {
        self.rows.push(regs[..self.spec.width].to_vec());
    }

    pub fn width(&self) -> usize {
        self.spec.width
    }

    /// Computes the window functions once (a repeated call keeps the result).
    pub fn compute(&mut self, enc: TextEncoding) -> Result<(), VmError> {
        if self.order.is_none() {
            let order = compute(&mut self.rows, &self.spec, enc).map_err(VmError::from_function)?;
            self.order = Some(order);
            self.pos = 0;
        }
        Ok(())
    }

    /// The next output row (input values then results), if any.
    pub fn next_row(&mut self) -> Option<&[Value]> {
        let order = self.order.as_ref()?;
        let &i = order.get(self.pos)?;
        self.pos += 1;
        Some(&self.rows[i])
    }
}
