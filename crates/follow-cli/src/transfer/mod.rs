//! Moving graphs in and out: the row formats, `import` and `export`.

pub mod export;
pub mod import;
pub mod rows;
