//! What a collection element costs against the size limits, beside its bytes.

/// Bookkeeping charged per collection element (field, value or member).
pub const ELEMENT_OVERHEAD: usize = 16;
