//! `s3://bucket/key` addresses.

use super::RemoteError;
use std::fmt;

/// A bucket and a key (or a key prefix for `batch`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Url {
    /// The bucket name.
    pub bucket: String,
    /// The key, exactly as stored (no percent-decoding: S3 keys may contain `%`).
    pub key: String,
}

/// Whether `s` names an object or prefix in S3 (`s3://…`).
pub fn is_s3_url(s: &str) -> bool {
    s.len() > 5 && s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("s3://"))
}

impl S3Url {
    /// Parses `s3://bucket/key`. The key is taken literally, as the AWS CLI does.
    pub fn parse(s: &str) -> Result<S3Url, RemoteError> {
        let bad = |why: &str| RemoteError::BadUrl {
            url: s.to_string(),
            why: why.to_string(),
        };
        if !is_s3_url(s) {
            return Err(bad("does not start with s3://"));
        }
        let rest = s.get(5..).unwrap_or_default();
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// The same bucket, another key.
    pub fn with_key(&self, key: impl Into<String>) -> S3Url {
        S3Url {
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }

    /// `bucket/key` percent-encoded for the `x-amz-copy-source` header (`/` kept).
    pub(crate) fn copy_source(&self) -> String {
        let mut out = String::with_capacity(self.bucket.len() + self.key.len() + 1);
        out.push_str(&self.bucket);
        out.push('/');
        for b in self.key.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_encodes_awkward_keys() {
        let u = S3Url::parse("s3://b/shows/a b+c%d/é.mp3").unwrap();
        assert_eq!(u.bucket, "b");
        assert_eq!(u.key, "shows/a b+c%d/é.mp3");
        assert_eq!(u.copy_source(), "b/shows/a%20b%2Bc%25d/%C3%A9.mp3");
        assert_eq!(u.to_string(), "s3://b/shows/a b+c%d/é.mp3");
        assert!(S3Url::parse("s3:///k").is_err());
        assert!(S3Url::parse("/tmp/x").is_err());
        assert_eq!(S3Url::parse("s3://b").unwrap().key, "");
    }
}
