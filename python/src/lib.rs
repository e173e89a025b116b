//! `vq._vq`, the compiled part of the `vq` Python package: the library's quantizers as
//! classes over NumPy arrays, its metrics and exact search, and the `vq-benchmark` command.
//!
//! Where things live: `arrays` (NumPy in and out, errors), `common` (the calls every
//! quantizer has), one file per quantizer class (`pq`, `sq`, `opq`, `rabitq`, and
//! `fastscan` for packed codes), `functions` (module functions). Every call that does work
//! releases the GIL (`Python::detach`); the classes are frozen (immutable), so threads
//! share them freely.
//!
//! The command is the binary's own module tree, compiled in: `vq_benchmark` below is
//! `src/bin/vq-benchmark/main.rs`, and its modules name each other as `crate::cli`,
//! `crate::sweep`, ..., so this crate root re-exports them (`use vq_benchmark::*`). Nothing
//! here may be named like one of them.

mod arrays;
mod common;
mod fastscan;
mod functions;
mod opq;
mod pq;
mod rabitq;
mod sq;

#[allow(dead_code)] // the binary's `main`, which the extension does not call
#[allow(clippy::all)] // linted where it lives, as the binary
#[path = "../../src/bin/vq-benchmark/main.rs"]
mod vq_benchmark;
#[allow(unused_imports)]
use vq_benchmark::*;

use pyo3::prelude::*;

#[pymodule]
fn _vq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VqError", m.py().get_type::<arrays::VqError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<pq::ProductQuantizer>()?;
    m.add_class::<sq::ScalarQuantizer>()?;
    m.add_class::<opq::OpqQuantizer>()?;
    m.add_class::<rabitq::RabitqQuantizer>()?;
    m.add_class::<fastscan::PackedCodes>()?;
    m.add_function(wrap_pyfunction!(functions::knn, m)?)?;
    m.add_function(wrap_pyfunction!(functions::recall_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(functions::reconstruction_mse, m)?)?;
    m.add_function(wrap_pyfunction!(functions::pairwise_distortion, m)?)?;
    m.add_function(wrap_pyfunction!(functions::simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(functions::simd_available, m)?)?;
    m.add_function(wrap_pyfunction!(functions::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_bench_rust_pq_search, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_bench_rust_pq_encode, m)?)?;
    Ok(())
}
