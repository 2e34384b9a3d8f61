//! `astbase schema`: print the JSON Schema of fleet files.

use std::process::ExitCode;

use super::{CommandResult, Printer, exit};

pub fn run(printer: &Printer) -> CommandResult {
    printer.out(&astbase::validate::schema::schema_text())?;
    Ok(ExitCode::from(exit::OK))
}
