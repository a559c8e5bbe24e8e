//! Integration tests of `checkpoint`, one binary: each module below is a
//! test file of its own; `support` holds the fixtures' paths, scratch
//! directories and the `.pt` files built byte by byte.

mod robustness;
mod support;
mod torch_fixture;
mod torch_format;
