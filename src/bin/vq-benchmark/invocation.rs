//! The command line this run was started with, for what records or repeats it: the run
//! log's `cli_command` (`provenance`) and the commands of a Slurm job script (`slurm`).
//!
//! The binary's own arguments and path are the process's. Inside the Python package
//! (`vq-benchmark` as a console script, this module tree compiled into the extension) the
//! process is the Python interpreter: its path and arguments are not the command, so the
//! entry point hands over `sys.argv` and the script's path, and they are kept here for the
//! thread that runs the command (a notebook may run several commands, from several
//! threads, in one process).

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::PathBuf;

struct Invocation {
    /// Program name first.
    args: Vec<OsString>,
    /// The program to run again, where the process's own executable is not it.
    program: Option<PathBuf>,
}

thread_local! {
    static CURRENT: RefCell<Option<Invocation>> = const { RefCell::new(None) };
}

/// Records `args` (program name first) as this thread's command, and `program` as the path
/// that runs it again (`None`: this process's executable).
pub fn record(args: Vec<OsString>, program: Option<PathBuf>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(Invocation { args, program }));
}

/// The command's arguments, program name first.
pub fn args() -> Vec<OsString> {
    CURRENT.with(|c| c.borrow().as_ref().map(|i| i.args.clone())).unwrap_or_else(|| std::env::args_os().collect())
}

/// The path of the program that runs this command again (a job script calls it).
pub fn program() -> Result<PathBuf, String> {
    match CURRENT.with(|c| c.borrow().as_ref().and_then(|i| i.program.clone())) {
        Some(p) => Ok(p),
        None => std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}")),
    }
}
