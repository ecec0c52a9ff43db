//! The three source APIs, each with its own routes, bodies, auth and
//! errors, and the service's own routes.

pub mod channels;
pub mod gateway;
pub mod ops;
pub mod tencent;
