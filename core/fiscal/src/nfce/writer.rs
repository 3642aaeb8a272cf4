//! A minimal XML writer whose output is already in C14N 1.0 form: start/end tag pairs (never
//! `<a/>`), attributes written in canonical order by the caller, text escaped exactly as C14N
//! escapes it (`&`, `<`, `>`; control characters never reach it — `text` refuses them).
//! Writing the canonical form directly lets the signature digest the bytes without parsing
//! them again; a test proves the result equals libxml2's C14N.

use std::fmt::Write as _;

use tenda_domain::Money;

pub(crate) struct XmlWriter {
    pub(crate) buf: String,
}

impl XmlWriter {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        XmlWriter {
            buf: String::with_capacity(capacity),
        }
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Start tag with attributes (values must need no escaping: ids, versions, numbers).
    pub(crate) fn open_with(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attributes {
            debug_assert!(!value.contains(['&', '<', '"', '\t', '\n', '\r']));
            self.buf.push(' ');
            self.buf.push_str(key);
            self.buf.push_str("=\"");
            self.buf.push_str(value);
            self.buf.push('"');
        }
        self.buf.push('>');
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// `<name>text</name>` with the text escaped (already checked by `text::tstring`).
    pub(crate) fn text(&mut self, name: &str, text: &str) {
        self.open(name);
        self.buf.push_str(&quick_xml::escape::partial_escape(text));
        self.close(name);
    }

    /// `<name>value</name>` for values that need no escaping (codes, numbers).
    pub(crate) fn raw(&mut self, name: &str, value: &str) {
        self.open(name);
        self.buf.push_str(value);
        self.close(name);
    }

    pub(crate) fn num(&mut self, name: &str, value: impl std::fmt::Display) {
        self.open(name);
        write!(self.buf, "{value}").expect("writing to a String cannot fail");
        self.close(name);
    }

    /// Money as `0.00` (the caller guarantees it is not negative).
    pub(crate) fn money(&mut self, name: &str, value: Money) {
        self.num(name, value);
    }

    /// A rate in basis points as `18.00`.
    pub(crate) fn rate(&mut self, name: &str, basis_points: u32) {
        self.open(name);
        write!(self.buf, "{}.{:02}", basis_points / 100, basis_points % 100)
            .expect("writing to a String cannot fail");
        self.close(name);
    }
}
