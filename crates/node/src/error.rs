//! The protocol's error codes and the error an RPC can end with.

use std::fmt;

/// An error code of the protocol (Maelstrom's codes).
///
/// A *definite* error means the operation certainly did not take effect; an *indefinite* one
/// (timeout, crash, every user-defined code from 1000 on, and any unknown code) means it may
/// have, and checkers treat the operation as maybe-happened. Answer with a definite code only
/// when you know the operation had no effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: no answer in time (indefinite).
    Timeout,
    /// 1: the destination node does not exist (definite).
    NodeNotFound,
    /// 10: the request type is not supported (definite).
    NotSupported,
    /// 11: the operation cannot be served right now, e.g. no leader (definite).
    TemporarilyUnavailable,
    /// 12: the request was malformed (definite).
    MalformedRequest,
    /// 13: the node crashed while handling the request (indefinite).
    Crash,
    /// 14: the operation was aborted (definite).
    Abort,
    /// 20: the key does not exist (definite).
    KeyDoesNotExist,
    /// 21: the key already exists (definite).
    KeyAlreadyExists,
    /// 22: a precondition (a compare-and-set's `from`) did not hold (definite).
    PreconditionFailed,
    /// 30: the transaction conflicted and was aborted (definite).
    TxnConflict,
    /// Any other code: 1000 and up are user-defined; all of them indefinite.
    Other(i64),
}

impl ErrorCode {
    /// Every named code, in numeric order.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Timeout,
        ErrorCode::NodeNotFound,
        ErrorCode::NotSupported,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::MalformedRequest,
        ErrorCode::Crash,
        ErrorCode::Abort,
        ErrorCode::KeyDoesNotExist,
        ErrorCode::KeyAlreadyExists,
        ErrorCode::PreconditionFailed,
        ErrorCode::TxnConflict,
    ];

    /// The code for the integer `code` on the wire.
    pub fn from_code(code: i64) -> ErrorCode {
        match code {
            0 => ErrorCode::Timeout,
            1 => ErrorCode::NodeNotFound,
            10 => ErrorCode::NotSupported,
            11 => ErrorCode::TemporarilyUnavailable,
            12 => ErrorCode::MalformedRequest,
            13 => ErrorCode::Crash,
            14 => ErrorCode::Abort,
            20 => ErrorCode::KeyDoesNotExist,
            21 => ErrorCode::KeyAlreadyExists,
            22 => ErrorCode::PreconditionFailed,
            30 => ErrorCode::TxnConflict,
            other => ErrorCode::Other(other),
        }
    }

    /// The integer on the wire.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Timeout => 0,
            ErrorCode::NodeNotFound => 1,
            ErrorCode::NotSupported => 10,
            ErrorCode::TemporarilyUnavailable => 11,
            ErrorCode::MalformedRequest => 12,
            ErrorCode::Crash => 13,
            ErrorCode::Abort => 14,
            ErrorCode::KeyDoesNotExist => 20,
            ErrorCode::KeyAlreadyExists => 21,
            ErrorCode::PreconditionFailed => 22,
            ErrorCode::TxnConflict => 30,
            ErrorCode::Other(c) => c,
        }
    }

    /// True if the operation certainly did not take effect.
    pub fn is_definite(self) -> bool {
        !matches!(
            self,
            ErrorCode::Timeout | ErrorCode::Crash | ErrorCode::Other(_)
        )
    }

    /// The code's name as Maelstrom spells it (`key-does-not-exist`), or `user-NNNN`.
    pub fn name(self) -> String {
        let s = match self {
            ErrorCode::Timeout => "timeout",
            ErrorCode::NodeNotFound => "node-not-found",
            ErrorCode::NotSupported => "not-supported",
            ErrorCode::TemporarilyUnavailable => "temporarily-unavailable",
            ErrorCode::MalformedRequest => "malformed-request",
            ErrorCode::Crash => "crash",
            ErrorCode::Abort => "abort",
            ErrorCode::KeyDoesNotExist => "key-does-not-exist",
            ErrorCode::KeyAlreadyExists => "key-already-exists",
            ErrorCode::PreconditionFailed => "precondition-failed",
            ErrorCode::TxnConflict => "txn-conflict",
            ErrorCode::Other(c) if c >= 1000 => return format!("user-{c}"),
            ErrorCode::Other(c) => return format!("unknown-{c}"),
        };
        s.to_owned()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// An RPC that did not succeed: the error the other side answered, or a synthetic
/// [`ErrorCode::Timeout`] when no answer came in time. Also what the typed getters of
/// [`crate::Body`] return for a missing or malformed key (code 12), so a handler can answer
/// it as is with [`crate::Ctx::error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// The code.
    pub code: ErrorCode,
    /// The text (free-form).
    pub text: String,
}

impl RpcError {
    /// An error with `code` and `text`.
    pub fn new(code: ErrorCode, text: impl Into<String>) -> RpcError {
        RpcError {
            code,
            text: text.into(),
        }
    }

    /// A [`ErrorCode::MalformedRequest`] error.
    pub fn malformed(text: impl Into<String>) -> RpcError {
        RpcError::new(ErrorCode::MalformedRequest, text)
    }

    /// True if the operation certainly did not take effect ([`ErrorCode::is_definite`]).
    pub fn is_definite(&self) -> bool {
        self.code.is_definite()
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.text)
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_protocol_table() {
        // The table of the protocol (issue 10), written out independently of the enum.
        let table: [(i64, &str, bool); 11] = [
            (0, "timeout", false),
            (1, "node-not-found", true),
            (10, "not-supported", true),
            (11, "temporarily-unavailable", true),
            (12, "malformed-request", true),
            (13, "crash", false),
            (14, "abort", true),
            (20, "key-does-not-exist", true),
            (21, "key-already-exists", true),
            (22, "precondition-failed", true),
            (30, "txn-conflict", true),
        ];
        for (code, name, definite) in table {
            let c = ErrorCode::from_code(code);
            assert_eq!(c.code(), code);
            assert_eq!(c.name(), name);
            assert_eq!(c.is_definite(), definite, "{name}");
            assert!(ErrorCode::ALL.contains(&c));
        }
        assert_eq!(ErrorCode::ALL.len(), table.len());
    }

    #[test]
    fn user_and_unknown_codes_are_indefinite() {
        for code in [1000, 1001, 65_000, 2, 99, -1] {
            let c = ErrorCode::from_code(code);
            assert_eq!(c, ErrorCode::Other(code));
            assert_eq!(c.code(), code);
            assert!(!c.is_definite(), "{code}");
        }
        assert_eq!(ErrorCode::from_code(1234).name(), "user-1234");
    }
}
