//! Link rules: `bad-url`, `url-not-ascii`, `url-too-long`, and `bad-url` for Podcasting 2.0
//! images.

use crate::chapter::{Chapter, ascii_url};
use crate::validate::{Builder, Limits, Rule, Severity, who};

/// The chapter's link: absolute http(s), and storable in the container as it is.
pub(super) fn link(b: &mut Builder, (idx, ch): (usize, &Chapter), limits: &Limits) {
    let (Some(link), Some(url)) = (ch.link.as_ref(), ch.url()) else {
        return;
    };
    let w = who(idx, ch);
    let ascii = match link.ascii() {
        Ok(ascii) => ascii,
        Err(e) => {
            b.push(
                Severity::Error,
                Rule::BadUrl,
                Some((idx, ch)),
                format!("{w}: {e}"),
                Some("links must be absolute, e.g. https://example.com/page".to_string()),
            );
            return;
        }
    };
    if let Some(stores) = limits.ascii_urls.filter(|_| ascii != url) {
        b.push(
            Severity::Warning,
            Rule::UrlNotAscii,
            Some((idx, ch)),
            format!(
                "{w}: url `{url}` is not plain ascii; {stores}, so it will be written as `{ascii}`"
            ),
            None,
        );
    }
    if let Some(max) = limits.url_bytes
        && ascii.len() > max
    {
        b.push(
            Severity::Warning,
            Rule::UrlTooLong,
            Some((idx, ch)),
            format!(
                "{w}: url is {} bytes; an mp4 chapter-track href holds at most {max}, so it cannot be stored there",
                ascii.len()
            ),
            Some("use a shorter link (a redirect) for mp4 files".to_string()),
        );
    }
}

/// A Podcasting 2.0 `img` must be an absolute http(s) URL (only where the profile checks).
pub(super) fn image(b: &mut Builder, (idx, ch): (usize, &Chapter)) {
    if b.policy.check_images
        && let Some(img) = ch.image.as_deref()
        && let Err(e) = ascii_url(img)
    {
        b.push(
            Severity::Error,
            Rule::BadUrl,
            Some((idx, ch)),
            format!("{}: image {e}", who(idx, ch)),
            Some("podcasting 2.0 `img` must be an absolute http(s) url".to_string()),
        );
    }
}
