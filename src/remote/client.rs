//! The S3 client: the AWS SDK on a small tokio runtime, driven from blocking code.

use super::{RemoteError, S3Url};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes moved over the network for one object (bodies only, not headers).
#[derive(Debug, Default)]
pub struct Transfer {
    down: AtomicU64,
    up: AtomicU64,
    copied: AtomicU64,
    requests: AtomicU64,
}

impl Transfer {
    /// Body bytes downloaded.
    pub fn down(&self) -> u64 {
        self.down.load(Ordering::Relaxed)
    }
    /// Body bytes uploaded.
    pub fn up(&self) -> u64 {
        self.up.load(Ordering::Relaxed)
    }
    /// Bytes copied server-side (`UploadPartCopy`), never through this machine.
    pub fn copied(&self) -> u64 {
        self.copied.load(Ordering::Relaxed)
    }
    /// Requests sent (retries by the client not counted).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub(crate) fn add_down(&self, n: u64) {
        self.down.fetch_add(n, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_up(&self, n: u64) {
        self.up.fetch_add(n, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_copied(&self, n: u64) {
        self.copied.fetch_add(n, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a HEAD told us: the version we read and the metadata a rewrite keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// Length in bytes.
    pub len: u64,
    /// The ETag (with its quotes, as the service sends it).
    pub etag: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    pub metadata: HashMap<String, String>,
}

/// A connection to the object store, shared by every object of a run (cheap to clone).
#[derive(Clone)]
pub struct Remote {
    pub(crate) client: Client,
    rt: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the config: it holds the credentials provider.
        f.write_str("Remote")
    }
}

/// Attempts per request (the first and the retries) unless `AWS_MAX_ATTEMPTS` says otherwise.
const MAX_ATTEMPTS: u32 = 5;

impl Remote {
    /// A client configured from the environment the way AWS tools are: credentials from
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles (`AWS_PROFILE`), the region from
    /// `AWS_REGION` or the profile (`us-east-1` when neither names one), the endpoint from
    /// `AWS_ENDPOINT_URL[_S3]` (R2, MinIO: path-style addressing is then used, as those
    /// services expect).
    pub fn from_env() -> Result<Remote, RemoteError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| RemoteError::Local {
                url: "s3://".into(),
                action: "starting the network runtime",
                source,
            })?;
        let client = rt.block_on(async {
            let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
            let mut loader =
                aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(retry);
            if std::env::var_os("AWS_MAX_ATTEMPTS").is_some() {
                // The environment's own retry settings win over our default.
                loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            }
            let shared = loader.load().await;
            let mut conf = aws_sdk_s3::config::Builder::from(&shared);
            if shared.region().is_none() {
                conf = conf.region(aws_sdk_s3::config::Region::new("us-east-1"));
            }
            if shared.endpoint_url().is_some() {
                conf = conf.force_path_style(true);
            }
            Client::from_conf(conf.build())
        });
        Ok(Remote {
            client,
            rt: Arc::new(rt),
        })
    }

    /// Runs one future to completion from blocking code (any thread, e.g. a rayon worker).
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The object's length, ETag and metadata.
    pub fn head(&self, url: &S3Url, transfer: &Transfer) -> Result<ObjectHead, RemoteError> {
        transfer.add_request();
        let out = self
            .block_on(
                self.client
                    .head_object()
                    .bucket(&url.bucket)
                    .key(&url.key)
                    .send(),
            )
            .map_err(|e| request_error(url, "reading its metadata", e))?;
        let len = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| RemoteError::MissingHead {
                url: url.to_string(),
                what: "length",
            })?;
        let etag = out
            .e_tag()
            .ok_or_else(|| RemoteError::MissingHead {
                url: url.to_string(),
                what: "etag",
            })?
            .to_string();
        log::debug!("{url}: {len} bytes, etag {etag}");
        Ok(ObjectHead {
            len,
            etag,
            content_type: out.content_type().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            content_disposition: out.content_disposition().map(str::to_string),
            content_encoding: out.content_encoding().map(str::to_string),
            content_language: out.content_language().map(str::to_string),
            metadata: out.metadata().cloned().unwrap_or_default(),
        })
    }

    /// Bytes `[start, end)` of the object, only if it still has `etag`.
    pub fn get_range(
        &self,
        url: &S3Url,
        etag: &str,
        start: u64,
        end: u64,
        transfer: &Transfer,
    ) -> Result<Vec<u8>, RemoteError> {
        if end <= start {
            return Ok(Vec::new());
        }
        let range = format!("bytes={start}-{}", end - 1);
        log::debug!("{url}: get {range}");
        let fetch = async {
            let out = self
                .client
                .get_object()
                .bucket(&url.bucket)
                .key(&url.key)
                .range(&range)
                .if_match(etag)
                .send()
                .await
                .map_err(|e| changed_or(url, etag, &range, e))?;
            let body = out.body.collect().await.map_err(|e| RemoteError::Request {
                url: url.to_string(),
                action: format!("reading {range}"),
                detail: e.to_string(),
            })?;
            Ok::<_, RemoteError>(body.into_bytes().to_vec())
        };
        let bytes = self.block_on(fetch)?;
        transfer.add_down(bytes.len() as u64);
        if bytes.len() as u64 != end - start {
            return Err(RemoteError::Request {
                url: url.to_string(),
                action: format!("reading {range}"),
                detail: format!("got {} bytes", bytes.len()),
            });
        }
        Ok(bytes)
    }

    /// Keys under `prefix` (all pages), in the service's order (lexicographic).
    pub fn list(&self, prefix: &S3Url, transfer: &Transfer) -> Result<Vec<String>, RemoteError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            transfer.add_request();
            let out = self
                .block_on(
                    self.client
                        .list_objects_v2()
                        .bucket(&prefix.bucket)
                        .prefix(&prefix.key)
                        .set_continuation_token(token.take())
                        .send(),
                )
                .map_err(|e| request_error(prefix, "listing", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(keys)
    }
}

/// A failed request as our error: the service's code and message, never the request.
pub(crate) fn request_error<E>(
    url: &S3Url,
    action: &str,
    e: SdkError<E, HttpResponse>,
) -> RemoteError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let detail = match e.as_service_error().map(|s| (s.message(), s.code())) {
        Some((Some(m), code)) => format!("{m} ({})", code.unwrap_or("no code")),
        _ => match status {
            Some(n) => format!("http status {n}: {}", short(&e)),
            None => short(&e),
        },
    };
    RemoteError::Request {
        url: url.to_string(),
        action: action.to_string(),
        detail,
    }
}

/// The error's own words, without the raw response the SDK appends (long, and of no use in
/// a one-line message).
fn short<E: std::error::Error + 'static>(e: &SdkError<E, HttpResponse>) -> String {
    let full = DisplayErrorContext(e).to_string();
    let cut = full
        .find(" (ServiceError")
        .or_else(|| full.find(" (DispatchFailure"))
        .unwrap_or(full.len());
    full.get(..cut.min(400)).unwrap_or(&full).to_string()
}

/// `412 Precondition Failed` (the ETag no longer matches) as "changed underneath".
pub(crate) fn changed_or<E>(
    url: &S3Url,
    etag: &str,
    action: &str,
    e: SdkError<E, HttpResponse>,
) -> RemoteError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_precondition_failed(&e) {
        return RemoteError::ChangedUnderneath {
            url: url.to_string(),
            read: etag.to_string(),
            now: "unknown".into(),
        };
    }
    request_error(url, action, e)
}

fn is_precondition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    let code = e.as_service_error().and_then(|s| s.code());
    if code == Some("PreconditionFailed") {
        return true;
    }
    matches!(e, SdkError::ServiceError(_))
        && e.raw_response().is_some_and(|r| r.status().as_u16() == 412)
}
