//! Where each JSON field of a task-definition file is, by line, so SARIF can point a reviewer at
//! the line to change. A small scanner over text already known to be valid JSON: it records the
//! line of every key and array element under the path findings use
//! (`containerDefinitions[1].readonlyRootFilesystem`), and nothing else.

use std::collections::HashMap;

/// The 1-based line of every field and array element in `text`.
#[derive(Debug, Default)]
pub struct FieldLines {
    lines: HashMap<String, usize>,
}

impl FieldLines {
    /// Scans `text`; a document that is not valid JSON yields what was found before the fault.
    pub fn scan(text: &str) -> Self {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
            lines: HashMap::new(),
        };
        scanner.value("", 0);
        FieldLines {
            lines: scanner.lines,
        }
    }

    /// The line of `field`, else of its nearest enclosing field that is written (a finding about
    /// a missing field points at the object that lacks it); `None` when nothing encloses it.
    pub fn line(&self, field: &str) -> Option<usize> {
        let mut path = field;
        loop {
            if let Some(&line) = self.lines.get(path) {
                return Some(line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

/// Deep enough for any task definition; a deeper document is not one.
const MAX_DEPTH: usize = 64;

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    lines: HashMap<String, usize>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.at += 1;
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.bump();
        }
    }

    /// A string starting at `"`, decoded; the scanner stops after its closing quote.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.bump();
        while let Some(b) = self.peek() {
            match b {
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                b'"' => {
                    self.bump();
                    let raw = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
                    return serde_json::from_str(raw).ok();
                }
                _ => self.bump(),
            }
        }
        None
    }

    fn value(&mut self, path: &str, depth: usize) -> Option<()> {
        self.skip_space();
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => {
                self.bump();
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b'}' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => self.bump(),
                        b'"' => {
                            let line = self.line;
                            let key = self.string()?;
                            let child = if path.is_empty() {
                                key
                            } else {
                                format!("{path}.{key}")
                            };
                            self.lines.entry(child.clone()).or_insert(line);
                            self.skip_space();
                            if self.peek()? != b':' {
                                return None;
                            }
                            self.bump();
                            self.value(&child, depth + 1)?;
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.bump();
                let mut index = 0;
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b']' => {
                            self.bump();
                            return Some(());
                        }
                        b',' => self.bump(),
                        _ => {
                            let child = format!("{path}[{index}]");
                            self.lines.entry(child.clone()).or_insert(self.line);
                            self.value(&child, depth + 1)?;
                            index += 1;
                        }
                    }
                }
            }
            b'"' => self.string().map(drop),
            _ => {
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.bump();
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_elements_have_their_lines_and_missing_ones_their_parents() {
        let text = "{\n  \"family\": \"web\",\n  \"containerDefinitions\": [\n    {\"name\": \"a\"},\n    {\n      \"name\": \"b \\\" c\",\n      \"privileged\": true\n    }\n  ]\n}\n";
        let lines = FieldLines::scan(text);
        assert_eq!(lines.line("family"), Some(2));
        assert_eq!(lines.line("containerDefinitions[0]"), Some(4));
        assert_eq!(lines.line("containerDefinitions[1].privileged"), Some(7));
        assert_eq!(
            lines.line("containerDefinitions[0].readonlyRootFilesystem"),
            Some(4)
        );
        assert_eq!(
            lines.line("containerDefinitions[1].linuxParameters.capabilities.drop"),
            Some(5)
        );
        assert_eq!(lines.line("networkMode"), None);
        let wrapped = FieldLines::scan("{\"taskDefinition\": {\n\"pidMode\": \"host\"}}");
        assert_eq!(wrapped.line("taskDefinition.pidMode"), Some(2));
        assert_eq!(FieldLines::scan("{\"a\": [").line("a"), Some(1));
    }
}
