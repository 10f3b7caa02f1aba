//! Reading the Messenger export: typed serde parsing that borrows from the input, tolerates
//! unknown fields and wrong types, and reports where a broken file breaks.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::error::ParseError;

/// One field of a message as found in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field<'a> {
    /// The key is absent.
    #[default]
    Missing,
    /// The value is `null`.
    Null,
    /// A string (numbers are kept as their decimal text).
    Str(Cow<'a, str>),
    /// A boolean, array or object: a type the field never has.
    Other,
}

impl<'a> Field<'a> {
    /// The string value, if the field is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string value trimmed, if it is a non-blank string.
    pub fn non_blank(&self) -> Option<&str> {
        self.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// Whether the key is absent or null.
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Missing | Field::Null)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// One message of the export, with only the fields PowerPulse uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawMessage<'a> {
    /// `MESSAGE_CONTENT`.
    pub content: Field<'a>,
    /// `DIRECTION`.
    pub direction: Field<'a>,
    /// `SOCIAL_CREATE_TIME`.
    pub time: Field<'a>,
    /// `AGENT_USERNAME`.
    pub agent_username: Field<'a>,
    /// `AGENT_EMAIL`.
    pub agent_email: Field<'a>,
    /// `UNIQUE_POST_ID`.
    pub unique_post_id: Field<'a>,
    /// `FB_CHAT_ID` (the object key wins in the grouped form).
    pub chat_id: Field<'a>,
}

/// The message keys PowerPulse reads; everything else is skipped.
enum Key {
    Content,
    Direction,
    Time,
    AgentUsername,
    AgentEmail,
    UniquePostId,
    ChatId,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                // A hand-written match: the derived enum identifier is a measurable share of parse time.
                Ok(match v {
                    "MESSAGE_CONTENT" => Key::Content,
                    "DIRECTION" => Key::Direction,
                    "SOCIAL_CREATE_TIME" => Key::Time,
                    "AGENT_USERNAME" => Key::AgentUsername,
                    "AGENT_EMAIL" => Key::AgentEmail,
                    "UNIQUE_POST_ID" => Key::UniquePostId,
                    "FB_CHAT_ID" => Key::ChatId,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// An element of a chat's message array: a message object, or something that is not one.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A JSON object, read as a message.
    Message(RawMessage<'a>),
    /// Any other value (counted as `missing_field` by cleaning).
    NotObject,
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut m = RawMessage::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let slot = match key {
                        Key::Content => &mut m.content,
                        Key::Direction => &mut m.direction,
                        Key::Time => &mut m.time,
                        Key::AgentUsername => &mut m.agent_username,
                        Key::AgentEmail => &mut m.agent_email,
                        Key::UniquePostId => &mut m.unique_post_id,
                        Key::ChatId => &mut m.chat_id,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(Item::Message(m))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Item::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Item::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

/// The value under a chat id: its messages, or a note of what was there instead.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatValue<'a> {
    /// An array (its elements, in file order).
    Messages(Vec<Item<'a>>),
    /// Not an array; names the JSON type found (reported, not fatal).
    NotArray(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for ChatValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChatValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of messages")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ChatValue::Messages(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ChatValue::NotArray("an object"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("a number"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("a string"))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(ChatValue::NotArray("null"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The export as read: chats in file order, each with its id and value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawExport<'a> {
    /// `(chat id, value)` pairs; the flat-array form is grouped by `FB_CHAT_ID` in first-seen order.
    pub chats: Vec<(Cow<'a, str>, ChatValue<'a>)>,
    /// Messages of the flat-array form that carry no usable `FB_CHAT_ID`.
    pub ungrouped: usize,
}

/// Chats in first-seen order; a repeated key adds its messages to the first occurrence
/// instead of hiding it.
#[derive(Default)]
struct ChatsInOrder<'a> {
    export: RawExport<'a>,
    index: std::collections::HashMap<Cow<'a, str>, usize>,
}

impl<'a> ChatsInOrder<'a> {
    fn add(&mut self, key: Cow<'a, str>, value: ChatValue<'a>) {
        match self.index.get(key.as_ref()) {
            Some(&i) => merge(&mut self.export.chats[i].1, value),
            None => {
                self.index.insert(key.clone(), self.export.chats.len());
                self.export.chats.push((key, value));
            }
        }
    }
}

struct Top<'k> {
    current_chat: &'k RefCell<Option<String>>,
}

impl<'de, 'k> DeserializeSeed<'de> for Top<'k> {
    type Value = RawExport<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A chat id key that borrows from the input when it has no escapes.
struct ChatKey<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for ChatKey<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChatKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a chat id")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ChatKey(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ChatKey(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(ChatKey(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de, 'k> Visitor<'de> for Top<'k> {
    type Value = RawExport<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of chats or an array of messages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut chats = ChatsInOrder::default();
        while let Some(ChatKey(key)) = map.next_key()? {
            *self.current_chat.borrow_mut() = Some(key.to_string());
            let value: ChatValue<'de> = map.next_value()?;
            chats.add(key, value);
        }
        *self.current_chat.borrow_mut() = None;
        Ok(chats.export)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut export = RawExport::default();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        while let Some(item) = seq.next_element::<Item<'de>>()? {
            let id = match &item {
                Item::Message(m) => m.chat_id.non_blank().map(str::to_owned),
                Item::NotObject => None,
            };
            let Some(id) = id else {
                export.ungrouped += 1;
                continue;
            };
            let i = *index.entry(id.clone()).or_insert_with(|| {
                export
                    .chats
                    .push((Cow::Owned(id), ChatValue::Messages(Vec::new())));
                export.chats.len() - 1
            });
            if let ChatValue::Messages(items) = &mut export.chats[i].1 {
                items.push(item);
            }
        }
        Ok(export)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(Shape("a boolean")))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(Shape("a number")))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(Shape("a number")))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(Shape("a number")))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(Shape("a string")))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(Shape("null")))
    }
}

fn merge<'a>(into: &mut ChatValue<'a>, value: ChatValue<'a>) {
    match (into, value) {
        (ChatValue::Messages(a), ChatValue::Messages(b)) => a.extend(b),
        (slot @ ChatValue::NotArray(_), v @ ChatValue::Messages(_)) => *slot = v,
        _ => {}
    }
}

/// Marker text for a wrong top-level shape, recognised when mapping serde errors.
struct Shape(&'static str);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{SHAPE_MARK}{}", self.0)
    }
}

const SHAPE_MARK: &str = "\u{0}powerpulse-shape:";

/// Parses an export from bytes. Borrows strings from `input` where they have no escapes.
pub fn parse_export(input: &[u8]) -> Result<RawExport<'_>, ParseError> {
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // Validating UTF-8 once and parsing from `&str` is much faster than serde_json checking
    // every string of a byte slice, and the error can name the exact byte.
    let text = std::str::from_utf8(input).map_err(|e| utf8_error(input, e))?;
    let current_chat = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let result = Top {
        current_chat: &current_chat,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    result.map_err(|e| to_parse_error(input, e, current_chat.into_inner()))
}

/// One `"key": value` entry of the top-level object, as byte ranges of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, quotes included.
    pub key: std::ops::Range<usize>,
    /// The value.
    pub value: std::ops::Range<usize>,
}

/// Deeper nesting than this is left to [`parse_export`], whose recursion limit (counted from the
/// top) then decides, so a split read never accepts what a whole read refuses.
const SPLIT_MAX_DEPTH: usize = 100;

/// The top-level object's entries, found by a scan that only tracks strings and brackets;
/// `None` when the text is not a well-formed-looking object of entries (the whole-file read then
/// decides and names the error).
pub fn split_entries(text: &str) -> Option<Vec<Entry>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut entries = Vec::new();
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(entries);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i;
        let key_end = string_end(b, i)?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        entries.push(Entry {
            key: key_start..key_end,
            value: start..end,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return (skip_ws(b, i + 1) == b.len()).then_some(entries),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// The index after the closing quote of the string that opens at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', &b[j..])?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
        if j > b.len() {
            return None;
        }
    }
}

/// The index after the value that starts at `i` (a string, an array or object with everything
/// nested in it, or a scalar up to the next delimiter).
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'[' | b'{' => {
                        depth += 1;
                        if depth > SPLIT_MAX_DEPTH {
                            return None;
                        }
                    }
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))?;
            (len > 0).then_some(i + len)
        }
    }
}

/// Reads one entry of [`split_entries`]; `None` if it is not valid JSON (the whole-file read
/// then names the error).
pub fn parse_entry<'a>(text: &'a str, e: &Entry) -> Option<(Cow<'a, str>, ChatValue<'a>)> {
    let key: ChatKey<'a> = serde_json::from_str(&text[e.key.clone()]).ok()?;
    let value: ChatValue<'a> = serde_json::from_str(&text[e.value.clone()]).ok()?;
    Some((key.0, value))
}

/// [`parse_export`] with the top-level entries read by `read_all` (on the server's threads, say,
/// calling [`parse_entry`] on each, in order). The result is [`parse_export`]'s for every input:
/// whatever the split cannot read is read whole, which names the error.
pub fn parse_export_by<'a, F>(input: &'a [u8], read_all: F) -> Result<RawExport<'a>, ParseError>
where
    F: FnOnce(&'a str, &[Entry]) -> Option<Vec<(Cow<'a, str>, ChatValue<'a>)>>,
{
    let Ok(text) = std::str::from_utf8(input) else {
        return parse_export(input);
    };
    let Some(chats) = split_entries(text).and_then(|entries| read_all(text, &entries)) else {
        return parse_export(input);
    };
    let mut chats_in = ChatsInOrder::default();
    for (key, value) in chats {
        chats_in.add(key, value);
    }
    Ok(chats_in.export)
}

fn utf8_error(input: &[u8], e: std::str::Utf8Error) -> ParseError {
    let offset = e.valid_up_to();
    let before = &input[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    ParseError::Syntax {
        offset,
        line,
        column: offset - line_start + 1,
        chat: None,
        message: "invalid UTF-8 (the export must be UTF-8 encoded)".to_owned(),
    }
}

fn to_parse_error(input: &[u8], e: serde_json::Error, chat: Option<String>) -> ParseError {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix(SHAPE_MARK) {
        let found = ["a boolean", "a number", "a string", "null"]
            .into_iter()
            .find(|f| rest.starts_with(f))
            .unwrap_or("not an object");
        return ParseError::WrongShape { found };
    }
    let (line, column) = (e.line(), e.column());
    let suffix = format!(" at line {line} column {column}");
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    ParseError::Syntax {
        offset: byte_offset(input, line, column),
        line,
        column,
        chat,
        message,
    }
}

/// Byte offset of serde_json's (line, column); columns count bytes from 1.
fn byte_offset(input: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    if line > 1 {
        let mut seen = 1;
        for pos in memchr::memchr_iter(b'\n', input) {
            seen += 1;
            if seen == line {
                start = pos + 1;
                break;
            }
        }
    }
    (start + column.saturating_sub(1)).min(input.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split read with its entries read in order on this thread.
    fn split_read(input: &[u8]) -> Result<RawExport<'_>, ParseError> {
        parse_export_by(input, |text, entries| {
            entries.iter().map(|e| parse_entry(text, e)).collect()
        })
    }

    #[test]
    fn the_split_finds_each_entry_and_skips_what_strings_hide() {
        let text =
            r#" { "a\"}" : [ {"MESSAGE_CONTENT": "x ] } \\"} ] , "b":null,"c" :{"k":[1,{}]} } "#;
        let e = split_entries(text).unwrap();
        let parts: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (&text[e.key.clone()], &text[e.value.clone()]))
            .collect();
        assert_eq!(
            parts,
            [
                (r#""a\"}""#, r#"[ {"MESSAGE_CONTENT": "x ] } \\"} ]"#),
                (r#""b""#, "null"),
                (r#""c""#, r#"{"k":[1,{}]}"#),
            ]
        );
        assert_eq!(split_entries(" {} ").unwrap(), []);
    }

    #[test]
    fn the_split_read_equals_the_whole_read_on_good_and_broken_files() {
        let deep = |n: usize| format!(r#"{{"c": {}{}}}"#, "[".repeat(n), "]".repeat(n));
        let cases = [
            r#"{"c1": [{"MESSAGE_CONTENT": "a", "DIRECTION": "to_company"}], "c2": [], "c1": [{"MESSAGE_CONTENT": "b"}]}"#.to_owned(),
            r#"{"c\u00e9": [{"MESSAGE_CONTENT": "esc\n", "X": [1, 2.5e3, true, null]}], "n": 5, "s": "x", "o": {}}"#.to_owned(),
            r#"{"x": "not", "x": [1, "two"]}"#.to_owned(),
            r#"[{"FB_CHAT_ID": "a", "MESSAGE_CONTENT": "flat"}]"#.to_owned(),
            r#"{"c": [{"MESSAGE_CONTENT": "unterminated}]}"#.to_owned(),
            r#"{"c": [}"#.to_owned(),
            r#"{"c": [1] "d": []}"#.to_owned(),
            r#"{"c": [1],}"#.to_owned(),
            r#"{"c": [1]} trailing"#.to_owned(),
            r#"{"c": tru}"#.to_owned(),
            r#"{"c": [1e999]}"#.to_owned(),
            r#"{c: []}"#.to_owned(),
            "true".to_owned(),
            "  ".to_owned(),
            "{}".to_owned(),
            deep(99),
            deep(126),
            deep(127),
            deep(200),
        ];
        // The good files are read by the split itself, not by the fallback.
        for good in &cases[..2] {
            let entries = split_entries(good).unwrap();
            assert!(entries.iter().all(|e| parse_entry(good, e).is_some()));
        }
        for case in &cases {
            assert_eq!(
                split_read(case.as_bytes()),
                parse_export(case.as_bytes()),
                "{case}"
            );
        }
        let bad_utf8 = b"{\"c\": [{\"MESSAGE_CONTENT\": \"\xff\"}]}";
        assert_eq!(split_read(bad_utf8), parse_export(bad_utf8));
    }

    fn chat<'a>(e: &'a RawExport<'a>, id: &str) -> &'a ChatValue<'a> {
        &e.chats.iter().find(|(k, _)| k == id).unwrap().1
    }

    #[test]
    fn reads_the_documented_sample() {
        let json = br#"{"FB_CHAT_ID_1": [
            {"FB_CHAT_ID": "FB_CHAT_ID_1", "MESSAGE_CONTENT": "Customer message content",
             "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00.000Z",
             "AGENT_USERNAME": null, "AGENT_EMAIL": null},
            {"MESSAGE_CONTENT": "Agent response", "DIRECTION": "to_client",
             "SOCIAL_CREATE_TIME": "2025-08-12T10:02:00.000Z", "AGENT_USERNAME": "AGENT_ID",
             "AGENT_EMAIL": "agent@company.com", "MESSAGE_TYPE": "text", "VIA": {"x": [1, 2]}}
        ]}"#;
        let e = parse_export(json).unwrap();
        let ChatValue::Messages(items) = chat(&e, "FB_CHAT_ID_1") else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        let Item::Message(m) = &items[1] else {
            panic!()
        };
        assert_eq!(m.content.as_str(), Some("Agent response"));
        assert_eq!(m.agent_username.as_str(), Some("AGENT_ID"));
        assert_eq!(m.unique_post_id, Field::Missing);
        let Item::Message(m) = &items[0] else {
            panic!()
        };
        assert_eq!(m.agent_email, Field::Null);
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let json = br#"{"c": [{"MESSAGE_CONTENT": "plain"}, {"MESSAGE_CONTENT": "line\nbreak"}]}"#;
        let e = parse_export(json).unwrap();
        let ChatValue::Messages(items) = chat(&e, "c") else {
            panic!()
        };
        let Item::Message(a) = &items[0] else {
            panic!()
        };
        let Item::Message(b) = &items[1] else {
            panic!()
        };
        assert!(matches!(a.content, Field::Str(Cow::Borrowed("plain"))));
        assert_eq!(b.content.as_str(), Some("line\nbreak"));
    }

    #[test]
    fn wrong_types_are_kept_as_other_not_errors() {
        let json = br#"{"c": [{"MESSAGE_CONTENT": 42, "DIRECTION": true, "SOCIAL_CREATE_TIME": [1]}, 7, "x"],
                        "d": {"not": "an array"}, "e": null}"#;
        let e = parse_export(json).unwrap();
        let ChatValue::Messages(items) = chat(&e, "c") else {
            panic!()
        };
        let Item::Message(m) = &items[0] else {
            panic!()
        };
        assert_eq!(m.content.as_str(), Some("42"));
        assert_eq!(m.direction, Field::Other);
        assert_eq!(m.time, Field::Other);
        assert_eq!(items[1], Item::NotObject);
        assert_eq!(*chat(&e, "d"), ChatValue::NotArray("an object"));
        assert_eq!(*chat(&e, "e"), ChatValue::NotArray("null"));
    }

    #[test]
    fn negative_and_fractional_numbers_read_as_their_text_and_objects_as_other() {
        let json = br#"{"c": [{"UNIQUE_POST_ID": -12, "MESSAGE_CONTENT": 1.5,
                               "DIRECTION": {"to": "company", "x": [1]}, "SOCIAL_CREATE_TIME": {}},
                              {"MESSAGE_CONTENT": "after"}]}"#;
        let e = parse_export(json).unwrap();
        let ChatValue::Messages(items) = chat(&e, "c") else {
            panic!()
        };
        let Item::Message(m) = &items[0] else {
            panic!()
        };
        assert_eq!(m.unique_post_id.as_str(), Some("-12"));
        assert_eq!(m.content.as_str(), Some("1.5"));
        assert_eq!(
            m.direction,
            Field::Other,
            "an object is read whole, as a wrong type"
        );
        assert_eq!(m.time, Field::Other, "an empty object too");
        let Item::Message(next) = &items[1] else {
            panic!()
        };
        assert_eq!(next.content.as_str(), Some("after"));
    }

    #[test]
    fn repeated_chat_keys_are_merged() {
        let json = br#"{"c": [{"MESSAGE_CONTENT": "a"}], "c": [{"MESSAGE_CONTENT": "b"}]}"#;
        let e = parse_export(json).unwrap();
        assert_eq!(e.chats.len(), 1);
        let ChatValue::Messages(items) = chat(&e, "c") else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        // A repeated key whose first value was not an array: the messages are not lost.
        let json = br#"{"c": 7, "c": [{"MESSAGE_CONTENT": "b"}], "d": [{"MESSAGE_CONTENT": "x"}], "d": null}"#;
        let e = parse_export(json).unwrap();
        let ChatValue::Messages(items) = chat(&e, "c") else {
            panic!("{:?}", chat(&e, "c"))
        };
        assert_eq!(items.len(), 1);
        let ChatValue::Messages(items) = chat(&e, "d") else {
            panic!()
        };
        assert_eq!(
            items.len(),
            1,
            "a later non-array does not hide them either"
        );
    }

    #[test]
    fn flat_array_is_grouped_by_chat_id() {
        let json = br#"[{"FB_CHAT_ID": "a", "MESSAGE_CONTENT": "1"}, {"FB_CHAT_ID": "b"},
                        {"FB_CHAT_ID": "a"}, {"MESSAGE_CONTENT": "orphan"}, 3]"#;
        let e = parse_export(json).unwrap();
        assert_eq!(e.chats.len(), 2);
        assert_eq!(e.chats[0].0, "a");
        assert_eq!(e.ungrouped, 2);
        let ChatValue::Messages(items) = chat(&e, "a") else {
            panic!()
        };
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn syntax_errors_name_the_byte_and_the_chat() {
        let json = b"{\"ok\": [],\n \"broken\": [{\"DIRECTION\": \"to_company\",, }]}";
        let err = parse_export(json).unwrap_err();
        let ParseError::Syntax {
            offset, line, chat, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*line, 2);
        assert_eq!(chat.as_deref(), Some("broken"));
        assert_eq!(json[*offset], b',');
        let text = err.to_string();
        assert!(
            text.contains("byte") && text.contains("\"broken\""),
            "{text}"
        );
    }

    #[test]
    fn truncated_file_reports_end_offset() {
        let json = br#"{"c": [{"MESSAGE_CONTENT": "a"#;
        let err = parse_export(json).unwrap_err();
        let ParseError::Syntax { offset, .. } = err else {
            panic!()
        };
        assert!(offset + 1 >= json.len(), "{offset}");
    }

    #[test]
    fn wrong_shapes_and_empty_input() {
        assert_eq!(parse_export(b"  \n").unwrap_err(), ParseError::Empty);
        assert_eq!(
            parse_export(b"\"hi\"").unwrap_err(),
            ParseError::WrongShape { found: "a string" }
        );
        assert_eq!(
            parse_export(b"12").unwrap_err(),
            ParseError::WrongShape { found: "a number" }
        );
        assert_eq!(
            parse_export(b"null").unwrap_err(),
            ParseError::WrongShape { found: "null" }
        );
        for (json, found) in [
            (&b"true"[..], "a boolean"),
            (b"-3", "a number"),
            (b"1.5", "a number"),
        ] {
            assert_eq!(
                parse_export(json).unwrap_err(),
                ParseError::WrongShape { found },
                "{}",
                String::from_utf8_lossy(json)
            );
        }
        assert!(matches!(
            parse_export(b"{} x").unwrap_err(),
            ParseError::Syntax { .. }
        ));
    }

    #[test]
    fn errors_past_the_first_line_name_their_exact_byte_line_and_column() {
        let json = b"{\"c\": [\n  {\"MESSAGE_CONTENT\": \"a\",, \"x\": 1}]}";
        let ParseError::Syntax {
            offset,
            line,
            column,
            ..
        } = parse_export(json).unwrap_err()
        else {
            panic!()
        };
        let second_comma = json.windows(2).position(|w| w == b",,").unwrap() + 1;
        assert_eq!((line, offset), (2, second_comma));
        assert_eq!(
            column,
            second_comma - 7,
            "columns count from the line's start, from 1"
        );
        let bad = b"{\"c\": [\n {\"MESSAGE_CONTENT\": \"ok \xff\"}]}";
        let ParseError::Syntax {
            offset,
            line,
            column,
            ..
        } = parse_export(bad).unwrap_err()
        else {
            panic!()
        };
        let at = bad.iter().position(|&b| b == 0xff).unwrap();
        assert_eq!((offset, line, column), (at, 2, at - 7));
    }

    #[test]
    fn invalid_utf8_and_deep_nesting_are_errors_not_panics() {
        let bad = b"{\"c\": [{\"MESSAGE_CONTENT\": \"\xff\xfe\"}]}";
        let ParseError::Syntax {
            offset, message, ..
        } = parse_export(bad).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(offset, 28);
        assert!(message.contains("UTF-8"));
        // Deep nesting where a message is expected or inside a field: skipped, no stack overflow.
        let deep = format!("{{\"c\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse_export(deep.as_bytes()).unwrap();
        assert_eq!(e.chats[0].1, ChatValue::Messages(vec![Item::NotObject]));
        let deep = format!(
            "{{\"c\": [{{\"VIA\": {}1{}}}]}}",
            "{\"a\":".repeat(50_000),
            "}".repeat(50_000)
        );
        match parse_export(deep.as_bytes()) {
            Ok(_) => {}
            Err(ParseError::Syntax { message, .. }) => {
                assert!(message.contains("recursion"), "{message}")
            }
            Err(e) => panic!("{e}"),
        }
        let unclosed = "[".repeat(200_000);
        assert!(parse_export(unclosed.as_bytes()).is_err());
    }
}
