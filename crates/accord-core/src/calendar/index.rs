//! The precomputed index behind every calendar query.
//!
//! Time is cut into fixed chunks of 2^25 seconds (about 388 days) of UTC. A chunk holds
//! the calendar's open intervals inside it as sorted UTC second ranges with running
//! totals of open time, so `elapsed`, `add` and `is_open` are a binary search and a
//! subtraction, not a walk over days. Chunks are built on first use and cached; their
//! fixed length makes finding one a shift, not a date conversion.

/// log2 of a chunk's length in seconds.
pub(crate) const CHUNK_BITS: u32 = 25;
pub(crate) const CHUNK_LEN: i64 = 1 << CHUNK_BITS;

/// The chunk holding instant `t` (floor division, negative instants included).
#[inline]
pub(crate) fn chunk_of(t: i64) -> i64 {
    t >> CHUNK_BITS
}

/// Open intervals `[starts[i], ends[i])` inside one chunk, sorted, disjoint and not
/// touching, with `cum_end[i]` = open seconds from the chunk's start to `ends[i]`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Chunk {
    starts: Vec<i64>,
    ends: Vec<i64>,
    cum_end: Vec<i64>,
}

impl Chunk {
    /// Builds a chunk from intervals that are sorted, disjoint, not touching and inside it.
    pub(crate) fn from_merged(intervals: &[(i64, i64)]) -> Chunk {
        let mut chunk = Chunk {
            starts: Vec::with_capacity(intervals.len()),
            ends: Vec::with_capacity(intervals.len()),
            cum_end: Vec::with_capacity(intervals.len()),
        };
        let mut total = 0;
        for &(s, e) in intervals {
            total += e - s;
            chunk.starts.push(s);
            chunk.ends.push(e);
            chunk.cum_end.push(total);
        }
        chunk
    }

    /// Open seconds in the whole chunk.
    #[inline]
    pub(crate) fn total(&self) -> i64 {
        self.cum_end.last().copied().unwrap_or(0)
    }

    /// Open seconds from the chunk's start to `t` (t inside the chunk or at its end).
    #[inline]
    pub(crate) fn open_before(&self, t: i64) -> i64 {
        let i = self.starts.partition_point(|&s| s < t);
        if i == 0 {
            return 0;
        }
        let j = i - 1;
        self.cum_end[j] - (self.ends[j] - t).max(0)
    }

    #[inline]
    pub(crate) fn is_open(&self, t: i64) -> bool {
        let i = self.starts.partition_point(|&s| s <= t);
        i > 0 && t < self.ends[i - 1]
    }

    /// The earliest instant with `target` open seconds before it (0 < target ≤ total):
    /// a target that uses up an interval lands on its end.
    #[inline]
    pub(crate) fn forward_to(&self, target: i64) -> i64 {
        let j = self.cum_end.partition_point(|&c| c < target);
        self.ends[j] - (self.cum_end[j] - target)
    }

    /// The latest instant with `target` open seconds before it (0 ≤ target < total): a
    /// target at an interval boundary lands on the next opening.
    #[inline]
    pub(crate) fn backward_to(&self, target: i64) -> i64 {
        let j = self.cum_end.partition_point(|&c| c <= target);
        self.ends[j] - (self.cum_end[j] - target)
    }

    /// The first opening after `t` (t closed), if this chunk has one.
    #[inline]
    pub(crate) fn next_start_after(&self, t: i64) -> Option<i64> {
        let i = self.starts.partition_point(|&s| s <= t);
        self.starts.get(i).copied()
    }

    /// The last close at or before `t`, if this chunk has one.
    #[inline]
    pub(crate) fn last_end_at_or_before(&self, t: i64) -> Option<i64> {
        let i = self.ends.partition_point(|&e| e <= t);
        i.checked_sub(1).map(|j| self.ends[j])
    }

    /// The intervals overlapping `[from, to)`, clipped to it.
    pub(crate) fn intervals_in(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = self.ends.partition_point(|&e| e <= from);
        self.starts[first..]
            .iter()
            .zip(&self.ends[first..])
            .take_while(move |&(&s, _)| s < to)
            .map(move |(&s, &e)| (s.max(from), e.min(to)))
    }
}

/// Sorts intervals and merges those that overlap or touch; drops empty ones.
pub(crate) fn merge(mut intervals: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    intervals.retain(|&(s, e)| e > s);
    intervals.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `open` minus `closed`; both sorted and merged.
pub(crate) fn subtract(open: &[(i64, i64)], closed: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(open.len());
    let mut c = 0;
    for &(mut s, e) in open {
        while c < closed.len() && closed[c].1 <= s {
            c += 1;
        }
        let mut k = c;
        while k < closed.len() && closed[k].0 < e {
            if closed[k].0 > s {
                out.push((s, closed[k].0));
            }
            s = s.max(closed[k].1);
            k += 1;
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_queries() {
        // open [10, 20) and [30, 40)
        let c = Chunk::from_merged(&[(10, 20), (30, 40)]);
        assert_eq!(c.total(), 20);
        assert_eq!(c.open_before(0), 0);
        assert_eq!(c.open_before(10), 0);
        assert_eq!(c.open_before(15), 5);
        assert_eq!(c.open_before(25), 10);
        assert_eq!(c.open_before(35), 15);
        assert_eq!(c.open_before(99), 20);
        assert!(c.is_open(10) && c.is_open(19) && !c.is_open(20) && !c.is_open(9));
        assert_eq!(
            c.forward_to(10),
            20,
            "using up an interval lands on its close"
        );
        assert_eq!(c.forward_to(11), 31);
        assert_eq!(c.backward_to(10), 30, "backwards lands on the opening");
        assert_eq!(c.backward_to(0), 10);
        assert_eq!(c.backward_to(5), 15);
        assert_eq!(c.next_start_after(20), Some(30));
        assert_eq!(c.next_start_after(30), None);
        assert_eq!(c.last_end_at_or_before(29), Some(20));
        assert_eq!(c.last_end_at_or_before(19), None);
        assert_eq!(
            c.intervals_in(15, 35).collect::<Vec<_>>(),
            [(15, 20), (30, 35)]
        );
    }

    #[test]
    fn merge_and_subtract() {
        assert_eq!(
            merge(vec![(5, 7), (1, 3), (3, 4), (6, 9), (10, 10)]),
            [(1, 4), (5, 9)]
        );
        assert_eq!(
            subtract(&[(0, 10), (20, 30)], &[(2, 3), (5, 22), (29, 40)]),
            [(0, 2), (3, 5), (22, 29)]
        );
        assert_eq!(chunk_of(-1), -1);
        assert_eq!(chunk_of(CHUNK_LEN), 1);
    }
}
