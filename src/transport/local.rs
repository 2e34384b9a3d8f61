//! The local executor: `sh -c` on this machine, for servers whose host is `local`.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};

use super::{Executor, Held, Output, TransportError};

/// Runs scripts on this machine.
pub struct Local {
    /// Extra environment (tests point `PATH` at an `asterisk` stand-in).
    pub env: Vec<(String, String)>,
    /// The script started by [`Executor::hold`]; its stdin is our pipe, so it ends
    /// when we release it or when this process dies.
    held: Option<Child>,
}

impl Local {
    pub fn new(env: Vec<(String, String)>) -> Local {
        Local { env, held: None }
    }

    /// `sh -c script` with all three standard streams piped.
    fn spawn(&self, script: &str) -> Result<Child, TransportError> {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(failure)
    }
}

fn failure(e: std::io::Error) -> TransportError {
    TransportError::Unreachable {
        host: "local".into(),
        message: e.to_string(),
    }
}

impl Executor for Local {
    fn describe(&self) -> String {
        "local".into()
    }

    fn exec(&mut self, script: &str, stdin: &[u8]) -> Result<Output, TransportError> {
        let fail = failure;
        let mut child = self.spawn(script)?;
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

    fn hold(
        &mut self,
        script: &str,
        ready: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Held, TransportError> {
        self.release(b"")?;
        let mut child = self.spawn(script)?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut printed = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let n = stdout.read(&mut chunk).map_err(failure)?;
            if n == 0 {
                break;
            }
            printed.extend_from_slice(&chunk[..n]);
            if ready(&printed) {
                // Kept open: the script may still print (its end, or an error).
                child.stdout = Some(stdout);
                self.held = Some(child);
                return Ok(Held::Running(printed));
            }
        }
        drop(child.stdin.take());
        let mut stderr = Vec::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_end(&mut stderr);
        }
        let status = child.wait().map_err(failure)?;
        Ok(Held::Ended(Output {
            status: status.code().unwrap_or(-1),
            stdout: printed,
            stderr,
        }))
    }

    fn release(&mut self, last: &[u8]) -> Result<Option<Output>, TransportError> {
        let Some(mut child) = self.held.take() else {
            return Ok(None);
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A holder that already ended cannot take it: its status says so.
            let _ = stdin.write_all(last);
        }
        let out = child.wait_with_output().map_err(failure)?;
        Ok(Some(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        }))
    }
}
