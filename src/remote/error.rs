//! Errors of the object-storage path.

/// Why an object could not be read or written. Messages name the object (`s3://bucket/key`)
/// and never carry credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// Not an `s3://bucket/key` address.
    #[error("{url}: not an s3 address: {why}")]
    BadUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A request failed (after the client's retries).
    #[error("{url}: {action}: {detail}")]
    Request {
        /// The object.
        url: String,
        /// What we were doing (`reading bytes 0-65535`).
        action: String,
        /// The service's error, without request signatures or credentials.
        detail: String,
    },
    /// The object changed between our read and our write (another writer, a re-upload): the
    /// multipart upload was aborted and nothing was changed.
    #[error(
        "{url}: the object changed underneath (etag {read} when read, {now} now); not written, \
         the multipart upload was aborted"
    )]
    ChangedUnderneath {
        /// The object.
        url: String,
        /// ETag when we read it.
        read: String,
        /// What the service says now (`unknown` when it did not say).
        now: String,
    },
    /// The object has no length or ETag in its metadata.
    #[error("{url}: the service did not report the object's {what}")]
    MissingHead {
        /// The object.
        url: String,
        /// `length` or `etag`.
        what: &'static str,
    },
    /// A local temporary file (the planner's shadow) could not be written.
    #[error("{url}: {action}: {source}")]
    Local {
        /// The object.
        url: String,
        /// What we were doing.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Measuring, planning or validating failed (the library's error, about the object).
    #[error(transparent)]
    Api(#[from] crate::Error),
}
