//! The reading order of an ID3 tag's chapters from its tables of contents (`CTOC`), in time
//! and memory linear in the tag. A hostile tag can make a table list itself (or another) many
//! times: walking that naively costs children^depth steps (one 10 KB file hung `chapmark
//! show`), so every table is expanded at most once and lookups go through maps.

use super::chapters::{ChapFrame, MAX_TOC_DEPTH, TocFrame};
use std::collections::HashMap;

/// Indices into `chaps` in the order the top-level table lists them (following nested
/// tables), each once; empty without a top-level table.
pub(crate) fn order(tocs: &[TocFrame], chaps: &[ChapFrame]) -> Vec<usize> {
    let Some(top) = tocs.iter().position(|t| t.top_level) else {
        return Vec::new();
    };
    let mut chap_at: HashMap<&[u8], usize> = HashMap::with_capacity(chaps.len());
    for (i, c) in chaps.iter().enumerate() {
        chap_at.entry(c.element_id.as_slice()).or_insert(i);
    }
    let mut toc_at: HashMap<&[u8], usize> = HashMap::with_capacity(tocs.len());
    for (i, t) in tocs.iter().enumerate() {
        toc_at.entry(t.element_id.as_slice()).or_insert(i);
    }
    let mut walk = Walk {
        tocs,
        chap_at,
        toc_at,
        expanded: vec![false; tocs.len()],
        listed: vec![false; chaps.len()],
        order: Vec::new(),
    };
    walk.toc(top, 0);
    walk.order
}

struct Walk<'a> {
    tocs: &'a [TocFrame],
    chap_at: HashMap<&'a [u8], usize>,
    toc_at: HashMap<&'a [u8], usize>,
    expanded: Vec<bool>,
    listed: Vec<bool>,
    order: Vec<usize>,
}

impl Walk<'_> {
    fn toc(&mut self, t: usize, depth: usize) {
        if depth > MAX_TOC_DEPTH || self.expanded.get(t).is_none_or(|&e| e) {
            return;
        }
        self.expanded[t] = true;
        let Some(toc) = self.tocs.get(t) else { return };
        for child in &toc.children {
            if let Some(&i) = self.chap_at.get(child.as_slice()) {
                if !self.listed[i] {
                    self.listed[i] = true;
                    self.order.push(i);
                }
            } else if let Some(&sub) = self.toc_at.get(child.as_slice()) {
                self.toc(sub, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toc(id: &str, top: bool, children: &[&str]) -> TocFrame {
        TocFrame {
            element_id: id.as_bytes().to_vec(),
            top_level: top,
            children: children.iter().map(|c| c.as_bytes().to_vec()).collect(),
        }
    }

    #[test]
    fn a_table_listing_itself_is_walked_once() {
        // 255 references to itself, nested 8 deep, was 255^8 steps.
        let mut children = vec!["toc"; 255];
        children.push("sub");
        let tocs = [
            toc("toc", true, &children),
            toc("sub", false, &["toc", "sub"]),
        ];
        let start = std::time::Instant::now();
        assert!(order(&tocs, &[]).is_empty());
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
