//! The `.pgpass` format: `hostname:port:database:username:password` per line, `*`
//! matching anything, `\:` and `\\` escaping, `#` starting a comment; the first matching
//! line wins.

/// The password of the first line matching the connection, if any.
pub fn lookup(text: &str, host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(fields)
        .find(|f| {
            f[..4]
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value)
        })
        .map(|f| f[4].clone())
}

/// The five fields of a line, unescaped; None for a line with fewer.
fn fields(line: &str) -> Option<[String; 5]> {
    let mut out: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut()?.push(chars.next().unwrap_or('\\')),
            // The password is the rest of the line, colons and all.
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut()?.push(c),
        }
    }
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn the_first_matching_line_wins_and_stars_match_anything() {
        let text = "# central\n\
                    other:5432:*:*:wrong\n\
                    db.example:5432:cdrs:agent:first\n\
                    *:*:*:agent:second\n";
        assert_eq!(
            lookup(text, "db.example", 5432, "cdrs", "agent").as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(text, "db2", 6432, "x", "agent").as_deref(),
            Some("second")
        );
        assert_eq!(lookup(text, "db2", 6432, "x", "report"), None);
    }

    #[test]
    fn escaped_colons_and_backslashes_are_part_of_a_field() {
        let text = "h:5432:d:a\\:b:pa\\\\ss:with:colons\n";
        assert_eq!(
            lookup(text, "h", 5432, "d", "a:b").as_deref(),
            Some("pa\\ss:with:colons")
        );
        assert_eq!(lookup("h:5432:d\n", "h", 5432, "d", "a"), None);
    }
}
