//! Multi-row statements cut into chunks: any table's rows by [`INSERT_CHUNK`] (under every
//! backend's bind limit), and the single writer's batch inserts by [`cached_chunks`], whose few
//! sizes keep their statements prepared.

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bind limits
/// for the widest table (licences, 15 columns).
pub(crate) const INSERT_CHUNK: usize = 1000;

/// Rows per chunk of [`cached_chunks`].
pub(crate) const CACHED_ROWS: usize = 64;

/// `rows` in chunks for multi-row inserts whose statements stay prepared: as many of
/// [`CACHED_ROWS`] as fit, then the rest by its binary digits (32, 16, … 1), so that a table's
/// inserts have at most seven statement texts whatever the batch sizes.
pub(crate) fn cached_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let n = match rest.len() {
            0 => return None,
            n if n >= CACHED_ROWS => CACHED_ROWS,
            n => 1 << n.ilog2(),
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_chunks_cover_the_rows_in_order_in_seven_sizes_at_most() {
        for n in [0usize, 1, 2, 3, 63, 64, 65, 100, 127, 128, 1000, 4321] {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = cached_chunks(&rows).collect();
            assert_eq!(chunks.concat(), rows, "{n} rows");
            assert!(chunks
                .iter()
                .all(|c| c.len().is_power_of_two() && c.len() <= CACHED_ROWS));
            // After the full chunks, each smaller size at most once, largest first.
            let small: Vec<usize> = chunks
                .iter()
                .map(|c| c.len())
                .filter(|&l| l < CACHED_ROWS)
                .collect();
            assert!(small.windows(2).all(|w| w[0] > w[1]), "{n}: {small:?}");
            assert_eq!(small.iter().sum::<usize>(), n % CACHED_ROWS);
        }
    }
}
