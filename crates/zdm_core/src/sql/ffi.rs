//! Where a syntax error is. The `pg_query` crate reports a parse error's message but drops libpg_query's
//! cursor position, so this module asks libpg_query (already linked in through `pg_query`) directly, and only
//! on the error path.
#![allow(unsafe_code)] // FFI to libpg_query's C API, with the struct layout of pg_query.h.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

unsafe extern "C" {
    fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// The parser's message and 0-based character index of the error in `sql`, if `sql` fails to parse.
pub(crate) fn syntax_error(sql: &str) -> Option<(String, Option<usize>)> {
    let input = CString::new(sql).ok()?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is freed once,
    // after the error fields have been copied out.
    unsafe {
        let result = pg_query_parse(input.as_ptr());
        let out = if result.error.is_null() {
            None
        } else {
            let err = &*result.error;
            let message = CStr::from_ptr(err.message).to_string_lossy().into_owned();
            let pos = usize::try_from(err.cursorpos).ok().filter(|p| *p > 0).map(|p| p - 1);
            Some((message, pos))
        };
        pg_query_free_parse_result(result);
        out
    }
}
