//! The local executor: `sh -c` on this machine, for servers whose host is `local`.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{Executor, Output, TransportError};

/// Runs scripts on this machine.
pub struct Local {
    /// Extra environment (tests point `PATH` at an `asterisk` stand-in).
    pub env: Vec<(String, String)>,
}

impl Executor for Local {
    fn describe(&self) -> String {
        "local".into()
    }

    fn exec(&mut self, script: &str, stdin: &[u8]) -> Result<Output, TransportError> {
        let fail = |e: std::io::Error| TransportError::Unreachable {
            host: "local".into(),
            message: e.to_string(),
        };
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(fail)?;
        // Feed stdin from another thread so a large write never deadlocks with a child
        // that is filling its stdout pipe.
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let data = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
        let out = child.wait_with_output().map_err(fail)?;
        let _ = feeder.join();
        Ok(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}
