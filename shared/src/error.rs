//! Errors of the export parser: what went wrong and where.

use thiserror::Error;

/// Why an export could not be read at all.
///
/// Problems inside single chats or messages are never errors: they are counted in the
/// [`crate::CleaningReport`] and the rest of the file is still used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The input holds no bytes (or only whitespace).
    #[error("the file is empty")]
    Empty,
    /// The bytes are not valid JSON (or not UTF-8); `offset` is the byte where reading stopped.
    #[error("{}", describe_syntax(*.offset, *.line, *.column, .chat.as_deref(), .message))]
    Syntax {
        /// Byte offset (0-based) of the problem.
        offset: usize,
        /// Line (1-based) of the problem.
        line: usize,
        /// Column (1-based, in bytes) of the problem.
        column: usize,
        /// The chat being read when the problem was found, if any.
        chat: Option<String>,
        /// serde_json's description, without its position suffix.
        message: String,
    },
    /// Valid JSON, but the top level is neither an object of chats nor an array of messages.
    #[error("the top level of the file is {found}; expected an object mapping chat ids to message arrays (or an array of messages)")]
    WrongShape {
        /// What was found instead (e.g. "a string").
        found: &'static str,
    },
}

fn describe_syntax(
    offset: usize,
    line: usize,
    column: usize,
    chat: Option<&str>,
    message: &str,
) -> String {
    let place = format!("byte {offset} (line {line}, column {column})");
    match chat {
        Some(chat) => format!("invalid JSON at {place}, in chat {chat:?}: {message}"),
        None => format!("invalid JSON at {place}: {message}"),
    }
}

impl ParseError {
    /// A short machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty_file",
            ParseError::Syntax { .. } => "invalid_json",
            ParseError::WrongShape { .. } => "wrong_shape",
        }
    }
}
