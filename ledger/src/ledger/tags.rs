//! Walking a tag's records through the back-links stored in the log.
//!
//! Why: the position lists of tags are not kept in memory (the budget is ~100 bytes per
//! record): each record stores, per tag, the position of the previous record with that tag, so
//! the log itself is the on-disk list. The index keeps a tag's last position and every
//! [`SAMPLE_EVERY`](crate::index::SAMPLE_EVERY)-th one ([`TagChain`]); a walk after a position
//! starts at the end of the right block and follows back-links, one record read per step.
//!
//! Records decided but not yet durable are not in the store yet: the writer publishes their
//! back-links per group ([`PendingLinks`], in the state, before the index names them), so a
//! reader that meets such a position follows its link from memory and only returns durable
//! positions.

use crate::index::{TagChain, TagId};
use crate::record::Position;

/// The back-links of one group's records, decided but maybe not yet durable.
#[derive(Debug, Default)]
pub(super) struct PendingLinks {
    /// The group's first position.
    pub start: u64,
    /// Per record, the end of its links in `links`.
    pub ends: Vec<u32>,
    /// Per record and tag: the tag and its back-link.
    pub links: Vec<(TagId, Option<Position>)>,
}

impl PendingLinks {
    /// The position after the group.
    pub fn end(&self) -> u64 {
        self.start + self.ends.len() as u64
    }

    /// The back-link of `tag` in the record at `position`: `None` when the record is not in
    /// this group (or does not carry the tag).
    pub fn link(&self, position: u64, tag: TagId) -> Option<Option<u64>> {
        let index = usize::try_from(position.checked_sub(self.start)?).ok()?;
        let end = *self.ends.get(index)? as usize;
        let begin = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        self.links
            .get(begin..end)?
            .iter()
            .find(|(id, _)| *id == tag)
            .map(|(_, prev)| prev.map(Position::get))
    }
}

/// The positions of a tag's records after `after` and below `below`, ascending, at most
/// `limit`, walking `chain` with `link(p)` = the back-link of the tag in the record at `p`.
///
/// # Errors
/// The first error of `link`.
pub(super) fn walk<E>(
    chain: &TagChain,
    after: Option<u64>,
    below: u64,
    limit: usize,
    link: &mut dyn FnMut(u64) -> Result<Option<u64>, E>,
) -> Result<Vec<u64>, E> {
    let mut found = Vec::new();
    let mut lower = after;
    let mut block = Vec::new();
    for &end in &chain.ends {
        if found.len() >= limit || lower.is_some_and(|lower| lower.saturating_add(1) >= below) {
            break;
        }
        block.clear();
        let mut at = Some(end);
        while let Some(position) = at {
            if lower.is_some_and(|lower| position <= lower) {
                break;
            }
            block.push(position);
            at = link(position)?;
            // Back-links point strictly backwards (decoding checks it); stop on anything else
            // rather than loop.
            if at.is_some_and(|previous| previous >= position) {
                break;
            }
        }
        for &position in block.iter().rev() {
            if position >= below || found.len() >= limit {
                return Ok(found);
            }
            found.push(position);
        }
        lower = Some(end);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain over the positions `0, 3, 6, …, 3·(n−1)`, with blocks of `block` records.
    fn chain_of(n: u64, block: u64, after: Option<u64>) -> (TagChain, Vec<u64>) {
        let positions: Vec<u64> = (0..n).map(|i| 3 * i).collect();
        let samples: Vec<u64> = positions
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as u64 + 1).is_multiple_of(block))
            .map(|(_, p)| *p)
            .collect();
        let start = after.map_or(0, |after| samples.partition_point(|s| *s <= after));
        let mut ends = samples[start..].to_vec();
        let last = *positions.last().expect("non-empty");
        if after.is_none_or(|after| last > after) && ends.last().is_none_or(|end| *end < last) {
            ends.push(last);
        }
        (
            TagChain {
                id: Some(TagId(0)),
                ends,
            },
            positions,
        )
    }

    fn link(position: u64) -> Result<Option<u64>, ()> {
        Ok(position.checked_sub(3))
    }

    #[test]
    fn walks_return_ascending_positions_in_range() {
        for after in [None, Some(0), Some(4), Some(29), Some(30), Some(200)] {
            for below in [0, 10, 31, 1000] {
                for limit in [0, 1, 5, 100] {
                    let (chain, positions) = chain_of(40, 4, after);
                    let expected: Vec<u64> = positions
                        .iter()
                        .copied()
                        .filter(|p| after.is_none_or(|a| *p > a) && *p < below)
                        .take(limit)
                        .collect();
                    let mut steps = 0;
                    let found = walk(&chain, after, below, limit, &mut |p| {
                        steps += 1;
                        link(p)
                    })
                    .expect("walks");
                    assert_eq!(
                        found, expected,
                        "after {after:?} below {below} limit {limit}"
                    );
                    assert!(steps <= limit + 8 + 40 / 4, "bounded reads: {steps}");
                }
            }
        }
    }

    #[test]
    fn pending_links_answer_for_their_records_only() {
        let links = PendingLinks {
            start: 10,
            ends: vec![2, 2, 3],
            links: vec![
                (TagId(1), None),
                (TagId(2), Some(Position(4))),
                (TagId(1), Some(Position(10))),
            ],
        };
        assert_eq!(links.end(), 13);
        assert_eq!(links.link(10, TagId(2)), Some(Some(4)));
        assert_eq!(links.link(10, TagId(1)), Some(None));
        assert_eq!(links.link(11, TagId(1)), None);
        assert_eq!(links.link(12, TagId(1)), Some(Some(10)));
        assert_eq!(links.link(9, TagId(1)), None);
        assert_eq!(links.link(13, TagId(1)), None);
    }
}
