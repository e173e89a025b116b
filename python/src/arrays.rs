//! NumPy at the boundary: inputs borrowed in place, outputs handed over without a copy, and
//! every library error turned into a Python exception carrying the library's message.
//!
//! **Inputs** must already be what the library reads: a NumPy array of the expected dtype
//! (float32 vectors, uint8 codes, int64 ids), C-contiguous, of the expected rank and width.
//! Such an array is borrowed (`PyReadonlyArray`, which also refuses an array that Rust holds
//! mutably elsewhere) and read in place: no copy. Anything else is rejected, never converted
//! behind the caller's back: a wrong dtype or a non-array is a `TypeError`, a wrong rank,
//! width or memory order a `ValueError`, each naming what was expected and what was given,
//! and how to convert (`np.ascontiguousarray(x, dtype=np.float32)`), so the one copy, when
//! one is needed, is the caller's and visible.
//!
//! **Outputs** are new arrays: a `Vec` filled by the library with the GIL released, moved
//! into NumPy (`PyArray::from_owned_array`: NumPy takes the allocation, no copy).

use numpy::ndarray::{Array1, Array2};
use numpy::{
    Element, IntoPyArray, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    _vq,
    VqError,
    PyValueError,
    "An input the vq library rejected; the message is the library's, naming the bad value and the accepted range."
);

/// A library error as a Python exception: `OSError` for a file that could not be read or
/// written, else [`VqError`] (a `ValueError`).
pub fn vq_err(e: vq::Error) -> PyErr {
    match e {
        vq::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => VqError::new_err(e.to_string()),
    }
}

/// `Result<T, vq::Error>` to `PyResult<T>`.
pub trait OrPy<T> {
    /// The error as [`vq_err`] maps it.
    fn py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for Result<T, vq::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(vq_err)
    }
}

/// How an expected shape reads in a message: `(n, 128)`, `(128,)`.
fn shape_text(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> =
        dims.iter().zip(["n", "k"]).map(|(d, name)| d.map_or(name.into(), |v| v.to_string())).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The dtype name NumPy uses for `T`.
fn dtype_name<T: Element>(py: Python<'_>) -> String {
    numpy::dtype::<T>(py).to_string()
}

/// `obj` as a borrowed array of `T` with `dims.len()` dimensions, C-contiguous, each
/// dimension `Some(d)` equal to `d`: the checks shared by [`rows`] and [`vector`].
fn checked<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    dims: &[Option<usize>],
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let want = shape_text(dims);
    let dtype = dtype_name::<T>(py);
    let Ok(arr) = obj.cast::<PyUntypedArray>() else {
        let ty = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a numpy.ndarray of dtype {dtype} and shape {want}, got {ty} \
             (convert with np.ascontiguousarray(x, dtype=np.{dtype}))"
        )));
    };
    let shape = arr.shape().to_vec();
    let got_dtype = arr.dtype();
    if !got_dtype.is_equiv_to(&numpy::dtype::<T>(py)) {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected dtype {dtype} and shape {want}, got dtype {got_dtype} and shape {shape:?} \
             (convert once with np.ascontiguousarray(x, dtype=np.{dtype}))"
        )));
    }
    if shape.len() != dims.len() || shape.iter().zip(dims).any(|(&s, d)| d.is_some_and(|d| d != s)) {
        return Err(PyValueError::new_err(format!(
            "{what}: expected shape {want} ({} dimension(s)), got shape {shape:?}",
            dims.len()
        )));
    }
    if !arr.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what}: expected a C-contiguous array of shape {want}, got a non-contiguous or Fortran-order \
             array of shape {shape:?} (copy it once with np.ascontiguousarray(x))"
        )));
    }
    Ok(arr.clone())
}

/// A 2-D input of `T`: `(n, width)` when `width` is given, else `(n, k)` for any `k`.
pub fn rows<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    width: Option<usize>,
) -> PyResult<PyReadonlyArray2<'py, T>> {
    let arr = checked::<T>(obj, what, &[None, width])?;
    let typed = arr.cast_into::<PyArray2<T>>()?;
    typed.try_readonly().map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// A 1-D input of `T` of length `len` when given.
pub fn vector<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    len: Option<usize>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let arr = checked::<T>(obj, what, &[len])?;
    let typed = arr.cast_into::<PyArray1<T>>()?;
    typed.try_readonly().map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// The borrowed elements of a checked (C-contiguous) array.
pub fn slice<'a, T: Element, D: numpy::ndarray::Dimension>(
    arr: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> PyResult<&'a [T]> {
    arr.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A `(rows, cols)` array made of `data` (exactly `rows·cols` elements) without a copy.
pub fn matrix<'py, T: Element>(
    py: Python<'py>,
    data: Vec<T>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<T>>> {
    let a = Array2::from_shape_vec((rows, cols), data).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(a.into_pyarray(py))
}

/// A 1-D array made of `data` without a copy.
pub fn column<T: Element>(py: Python<'_>, data: Vec<T>) -> Bound<'_, PyArray1<T>> {
    Array1::from_vec(data).into_pyarray(py)
}

/// A read-only NumPy view of `data`, which `owner` (a frozen Python object holding it)
/// keeps alive: no copy, and writing through it raises.
pub fn view<'py>(owner: &Bound<'py, PyAny>, data: &[f32], shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let py = owner.py();
    let flat = numpy::ndarray::ArrayView1::from(data);
    // SAFETY: `data` lives in the quantizer that `owner` holds; the quantizer is immutable
    // (a frozen pyclass, never mutated after construction) and `owner` is kept alive as
    // the array's base for as long as the array lives.
    let arr = unsafe { PyArray1::borrow_from_array(&flat, owner.clone()) };
    arr.call_method("setflags", (), Some(&[("write", false)].into_py_dict(py)?))?;
    Ok(arr.reshape(shape.to_vec())?.into_any())
}

/// `(n, dim)` rows of a float32 input as a slice, with the non-finite check the library
/// applies to training and queries also applied to vectors to encode, so NaN is an
/// exception everywhere rather than an unspecified code.
pub fn finite(what: &'static str, v: &[f32]) -> Result<(), vq::Error> {
    // A fold without early exit vectorizes; the position is looked up only on failure.
    if v.iter().fold(true, |ok, x| ok & x.is_finite()) {
        return Ok(());
    }
    let index = v.iter().position(|x| !x.is_finite()).unwrap_or(0);
    Err(vq::Error::NonFinite { what, index })
}

use pyo3::types::IntoPyDict;
