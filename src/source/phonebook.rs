//! Phonebook files a CRM or an address book exported: CSV with a header row, and vCard
//! (2.1, 3.0, 4.0). Read into records whose every field keeps its place in the file, so
//! validate can point at the cell or line a problem is in.

use super::{Pos, Span};

/// The formats a phonebook file may have, told by its name's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhonebookFormat {
    Csv,
    VCard,
}

impl PhonebookFormat {
    /// `.csv` is CSV; `.vcf` and `.vcard` are vCard (any case).
    pub fn of_path(path: &str) -> Option<PhonebookFormat> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(PhonebookFormat::Csv),
            "vcf" | "vcard" => Some(PhonebookFormat::VCard),
            _ => None,
        }
    }
}

/// Where a phonebook `project.phonebooks` names is in the repo, and its format: `None`
/// for a path that leaves the repo (absolute, `~`, or climbing out with `..`) or has no
/// phonebook extension.
pub fn repo_path(path: &str) -> Option<(String, PhonebookFormat)> {
    if path.starts_with(['/', '~']) {
        return None;
    }
    let rel = super::normal_path(path);
    if rel.is_empty() || rel == ".." || rel.starts_with("../") {
        return None;
    }
    let format = PhonebookFormat::of_path(&rel)?;
    Some((rel, format))
}

/// One field's text and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub span: Span,
}

/// One person or company of a phonebook, as written (nothing cleaned or checked yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Where the row or card starts.
    pub span: Span,
    pub name: Option<Cell>,
    pub company: Option<Cell>,
    /// Each number on its own, also when one cell lists several.
    pub numbers: Vec<Cell>,
}

/// Why a phonebook file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonebookError {
    pub span: Span,
    pub message: String,
    pub hint: String,
}

/// Reads every record of a phonebook file.
pub fn parse(format: PhonebookFormat, text: &str) -> Result<Vec<Record>, PhonebookError> {
    match format {
        PhonebookFormat::Csv => csv(text),
        PhonebookFormat::VCard => vcard(text),
    }
}

/// Header names (lower case) of the name column.
const NAME_COLUMNS: [&str; 5] = ["name", "full name", "display name", "fn", "contact"];
/// Header names of the company column.
const COMPANY_COLUMNS: [&str; 4] = ["company", "organization", "organisation", "org"];
/// Header names of number columns (also any header starting with `phone`).
const NUMBER_COLUMNS: [&str; 11] = [
    "number",
    "numbers",
    "phones",
    "mobile",
    "cell",
    "tel",
    "telephone",
    "work",
    "home",
    "office",
    "fax",
];

/// What separates several numbers written in one cell.
const NUMBER_SEPARATORS: [char; 3] = [',', ';', '|'];

#[derive(Clone, Copy)]
enum Column {
    Name,
    Company,
    Number,
    Other,
}

fn column(header: &str) -> Column {
    let h = header.trim().to_lowercase();
    if NAME_COLUMNS.contains(&h.as_str()) {
        Column::Name
    } else if COMPANY_COLUMNS.contains(&h.as_str()) {
        Column::Company
    } else if NUMBER_COLUMNS.contains(&h.as_str()) || h.starts_with("phone") {
        Column::Number
    } else {
        Column::Other
    }
}

/// CSV as RFC 4180 writes it (quotes, doubled quotes, line breaks inside quotes), with
/// `,` or `;` between fields (spreadsheets in many countries write `;`): the header's
/// first separator outside quotes decides.
fn csv(text: &str) -> Result<Vec<Record>, PhonebookError> {
    let delimiter = header_delimiter(text);
    let rows = csv_rows(text, delimiter)?;
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    let columns: Vec<Column> = header.cells.iter().map(|c| column(&c.text)).collect();
    let has = |want: fn(Column) -> bool| columns.iter().any(|c| want(*c));
    if !has(|c| matches!(c, Column::Name)) || !has(|c| matches!(c, Column::Number)) {
        return Err(PhonebookError {
            span: header.span,
            message: "the header row names no name column or no number column".into(),
            hint: format!(
                "the first row names the columns: one of {} for the name, one of {} \
                 (or a header starting with `phone`) for numbers, optionally one of {}",
                NAME_COLUMNS.join(", "),
                NUMBER_COLUMNS.join(", "),
                COMPANY_COLUMNS.join(", ")
            ),
        });
    }
    Ok(rows
        .map(|row| {
            let Row {
                span,
                cells,
                verbatim,
            } = row;
            let mut record = Record {
                span,
                name: None,
                company: None,
                numbers: Vec::new(),
            };
            for ((cell, col), verbatim) in cells.into_iter().zip(&columns).zip(verbatim) {
                if cell.text.trim().is_empty() {
                    continue;
                }
                match col {
                    Column::Name if record.name.is_none() => record.name = Some(cell),
                    Column::Company if record.company.is_none() => record.company = Some(cell),
                    Column::Number => record.numbers.extend(split_numbers(&cell, verbatim)),
                    _ => {}
                }
            }
            record
        })
        .collect())
}

/// `;` when the header has a `;` before any `,` outside quotes, else `,`.
fn header_delimiter(text: &str) -> char {
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return ',',
            ';' if !quoted => return ';',
            '\n' if !quoted => break,
            _ => {}
        }
    }
    ','
}

struct Row {
    span: Span,
    cells: Vec<Cell>,
    /// Whether each cell's text is written as is, on one line from `span.start`
    /// (unquoted, or quoted without doubled quotes or line breaks): then the place of a
    /// part of it is known to the column.
    verbatim: Vec<bool>,
}

impl Row {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.trim().is_empty())
    }
}

fn csv_rows(text: &str, delimiter: char) -> Result<Vec<Row>, PhonebookError> {
    let mut rows = Vec::new();
    let mut pos = Pos { line: 1, col: 1 };
    let mut chars = text.chars().peekable();
    let mut row = Row {
        span: Span::point(pos),
        cells: Vec::new(),
        verbatim: Vec::new(),
    };
    let mut field = String::new();
    let mut field_start = pos;
    let mut verbatim = true;
    let mut quoted = false;
    let mut quote_at = pos;
    let advance = |pos: &mut Pos, c: char| {
        if c == '\n' {
            pos.line += 1;
            pos.col = 1;
        } else {
            pos.col += 1;
        }
    };
    let end_field = |row: &mut Row, field: &mut String, start: Pos, end: Pos, verbatim: bool| {
        row.cells.push(Cell {
            text: std::mem::take(field),
            span: Span { start, end },
        });
        row.verbatim.push(verbatim);
    };
    while let Some(c) = chars.next() {
        let here = pos;
        advance(&mut pos, c);
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    advance(&mut pos, '"');
                    field.push('"');
                    verbatim = false;
                }
                '"' => quoted = false,
                '\n' | '\r' => {
                    verbatim = false;
                    if c == '\n' {
                        field.push('\n');
                    }
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                quote_at = here;
                field_start = pos;
            }
            c if c == delimiter => {
                end_field(&mut row, &mut field, field_start, here, verbatim);
                field_start = pos;
                verbatim = true;
            }
            '\r' => {}
            '\n' => {
                end_field(&mut row, &mut field, field_start, here, verbatim);
                row.span.end = here;
                rows.push(std::mem::replace(
                    &mut row,
                    Row {
                        span: Span::point(pos),
                        cells: Vec::new(),
                        verbatim: Vec::new(),
                    },
                ));
                field_start = pos;
                verbatim = true;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(PhonebookError {
            span: Span::point(quote_at),
            message: "this quote is never closed".into(),
            hint: "close the field with `\"` (a quote inside a field is written `\"\"`)".into(),
        });
    }
    if !field.is_empty() || !row.cells.is_empty() {
        end_field(&mut row, &mut field, field_start, pos, verbatim);
        row.span.end = pos;
        rows.push(row);
    }
    Ok(rows)
}

/// The numbers of one cell, each with its own place when the cell is written as is.
fn split_numbers(cell: &Cell, verbatim: bool) -> Vec<Cell> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for part in cell.text.split(NUMBER_SEPARATORS) {
        let len = part.chars().count();
        let lead = part.chars().take_while(|c| c.is_whitespace()).count();
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            let span = if verbatim {
                let start = Pos {
                    line: cell.span.start.line,
                    col: cell.span.start.col + offset + lead,
                };
                Span {
                    start,
                    end: Pos {
                        line: start.line,
                        col: start.col + trimmed.chars().count(),
                    },
                }
            } else {
                cell.span
            };
            out.push(Cell {
                text: trimmed.to_owned(),
                span,
            });
        }
        offset += len + 1;
    }
    out
}

/// One unfolded vCard content line: where it starts, where its value starts, its text.
struct ContentLine {
    start: Pos,
    /// Where the text after the first line starts in the file (its column is exact only
    /// when the line was not folded before that point).
    line_end: Pos,
    text: String,
}

/// vCard: `BEGIN:VCARD` … `END:VCARD`, folded lines (a line starting with a space or
/// tab continues the one before), `FN` (else `N`), `ORG`, any number of `TEL`.
fn vcard(text: &str) -> Result<Vec<Record>, PhonebookError> {
    let mut lines: Vec<ContentLine> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = i + 1;
        let end = Pos {
            line,
            col: raw.chars().count() + 1,
        };
        match raw.strip_prefix([' ', '\t']) {
            Some(rest) if !lines.is_empty() => {
                let last = lines.last_mut().expect("checked above");
                last.text.push_str(rest);
                last.line_end = end;
            }
            _ if raw.trim().is_empty() => {}
            _ => lines.push(ContentLine {
                start: Pos { line, col: 1 },
                line_end: end,
                text: raw.to_owned(),
            }),
        }
    }
    let mut records = Vec::new();
    let mut card: Option<(Record, Option<Cell>)> = None;
    for line in &lines {
        let Some((head, value)) = line.text.split_once(':') else {
            return Err(PhonebookError {
                span: Span {
                    start: line.start,
                    end: line.line_end,
                },
                message: "this line is not `NAME:value`".into(),
                hint: "each vCard line is a property name, `:` and its value".into(),
            });
        };
        let value_col = line.start.col + head.chars().count() + 1;
        let value_span = Span {
            start: Pos {
                line: line.start.line,
                col: value_col,
            },
            end: line.line_end,
        };
        let property = head
            .split(';')
            .next()
            .unwrap_or("")
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let cell = |text: String| Cell {
            text,
            span: value_span,
        };
        match (property.as_str(), &mut card) {
            ("BEGIN", None) if value.trim().eq_ignore_ascii_case("VCARD") => {
                card = Some((
                    Record {
                        span: Span {
                            start: line.start,
                            end: line.line_end,
                        },
                        name: None,
                        company: None,
                        numbers: Vec::new(),
                    },
                    None,
                ));
            }
            ("BEGIN", Some(_)) => {
                return Err(card_error(
                    line,
                    "a card begins inside another card",
                    "end the card before with `END:VCARD`",
                ));
            }
            ("END", Some(_)) if value.trim().eq_ignore_ascii_case("VCARD") => {
                let (mut record, structured) = card.take().expect("matched Some");
                if record.name.is_none() {
                    record.name = structured;
                }
                records.push(record);
            }
            (_, None) => {
                return Err(card_error(
                    line,
                    "this line is outside any card",
                    "cards begin with `BEGIN:VCARD` and end with `END:VCARD`",
                ));
            }
            ("FN", Some((record, _))) if record.name.is_none() => {
                record.name = Some(cell(unescape(value)));
            }
            ("N", Some((_, structured))) => {
                // Family;Given;Additional;Prefix;Suffix: shown as "Given Family".
                let parts: Vec<String> = split_unescaped(value).collect();
                let given = parts.get(1).map_or("", String::as_str);
                let family = parts.first().map_or("", String::as_str);
                let name = format!("{given} {family}").trim().to_owned();
                if !name.is_empty() {
                    *structured = Some(cell(name));
                }
            }
            ("ORG", Some((record, _))) if record.company.is_none() => {
                if let Some(org) = split_unescaped(value).next().filter(|o| !o.is_empty()) {
                    record.company = Some(cell(org));
                }
            }
            ("TEL", Some((record, _))) => {
                // 4.0 writes `tel:+1-555-0100;ext=12`: the number is before any `;`.
                let number = value.trim();
                let number = number.strip_prefix("tel:").unwrap_or(number);
                let number = number.split(';').next().unwrap_or("").trim();
                if !number.is_empty() {
                    record.numbers.push(cell(number.to_owned()));
                }
            }
            _ => {}
        }
    }
    if let Some((record, _)) = card {
        return Err(PhonebookError {
            span: record.span,
            message: "this card never ends".into(),
            hint: "end it with `END:VCARD`".into(),
        });
    }
    Ok(records)
}

fn card_error(line: &ContentLine, message: &str, hint: &str) -> PhonebookError {
    PhonebookError {
        span: Span {
            start: line.start,
            end: line.line_end,
        },
        message: message.into(),
        hint: hint.into(),
    }
}

/// A text value with vCard's escapes (`\,` `\;` `\\` `\n`) taken out.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            },
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// The `;`-separated components of a structured value, each unescaped.
fn split_unescaped(value: &str) -> impl Iterator<Item = String> + '_ {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b';' => {
                parts.push(&value[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    parts.push(&value[start.min(value.len())..]);
    parts.into_iter().map(unescape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }

    #[test]
    fn a_csv_export_gives_each_number_its_own_column_span() {
        let text = "Name,Company,Phone\n\
                    Ivan Petrov,Acme,\"+7 495 123-45-67, 8 916 000 00 00\"\n\
                    \"Smith, Anna\",,+441234567890\n";
        let records = parse(PhonebookFormat::Csv, text).unwrap();
        assert_eq!(records.len(), 2);
        let ivan = &records[0];
        assert_eq!(ivan.name.as_ref().unwrap().text, "Ivan Petrov");
        assert_eq!(ivan.company.as_ref().unwrap().text, "Acme");
        let numbers: Vec<(&str, Pos)> = ivan
            .numbers
            .iter()
            .map(|c| (c.text.as_str(), c.span.start))
            .collect();
        assert_eq!(
            numbers,
            [
                ("+7 495 123-45-67", at(2, 19)),
                ("8 916 000 00 00", at(2, 37))
            ]
        );
        assert_eq!(records[1].name.as_ref().unwrap().text, "Smith, Anna");
        assert_eq!(records[1].company, None);
        assert_eq!(records[1].numbers[0].span.start, at(3, 16));
    }

    #[test]
    fn a_semicolon_separated_export_is_read_by_its_header() {
        let text = "name;mobile;work\r\nOlga;+79160000001;+74950000002\r\n";
        let records = parse(PhonebookFormat::Csv, text).unwrap();
        let numbers: Vec<&str> = records[0].numbers.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(numbers, ["+79160000001", "+74950000002"]);
    }

    #[test]
    fn a_csv_without_a_number_column_is_refused_at_its_header() {
        let err = parse(PhonebookFormat::Csv, "Name,Email\nIvan,i@x\n").unwrap_err();
        assert_eq!(err.span.start, at(1, 1));
        assert_eq!(
            err.message,
            "the header row names no name column or no number column"
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_opens() {
        let err = parse(PhonebookFormat::Csv, "name,phone\n\"Ivan,+7495\n").unwrap_err();
        assert_eq!(err.span.start, at(2, 1));
        assert_eq!(err.message, "this quote is never closed");
    }

    #[test]
    fn a_vcard_gives_names_companies_and_every_telephone() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Petrov;Ivan;;;\r\n\
                    ORG:Acme\\, Inc.;Sales\r\nTEL;TYPE=work:+7 495 123 45 67\r\n\
                    item1.TEL:+7 916\r\n 000 00 00\r\nEND:VCARD\r\n\
                    BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna Smith\r\n\
                    TEL;VALUE=uri:tel:+44-1234-567890;ext=2\r\nEND:VCARD\r\n";
        let records = parse(PhonebookFormat::VCard, text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name.as_ref().unwrap().text, "Ivan Petrov");
        assert_eq!(records[0].company.as_ref().unwrap().text, "Acme, Inc.");
        let numbers: Vec<&str> = records[0].numbers.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(numbers, ["+7 495 123 45 67", "+7 916000 00 00"]);
        assert_eq!(records[0].numbers[0].span.start, at(5, 15));
        assert_eq!(records[1].name.as_ref().unwrap().text, "Anna Smith");
        assert_eq!(records[1].numbers[0].text, "+44-1234-567890");
    }

    #[test]
    fn a_card_that_never_ends_is_reported_where_it_begins() {
        let err = parse(PhonebookFormat::VCard, "BEGIN:VCARD\nFN:Ivan\n").unwrap_err();
        assert_eq!(err.span.start, at(1, 1));
        assert_eq!(err.message, "this card never ends");
    }
}
