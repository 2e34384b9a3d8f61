//! `astbase schema`: print the JSON Schema of fleet files.

use std::process::ExitCode;

use super::{CommandResult, exit, print};

pub fn run() -> CommandResult {
    print(&astbase::validate::schema::schema_text())?;
    Ok(ExitCode::from(exit::OK))
}
