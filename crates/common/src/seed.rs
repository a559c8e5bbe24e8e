//! Seeding: one ChaCha8 stream per purpose of one master seed, so that
//! adding a stream never changes the numbers of the others.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Independent random streams of one master seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Inputs and teacher.
    Data = 1,
    /// Label noise.
    LabelNoise = 2,
    /// Initial weights.
    Init = 3,
    /// Minibatch order.
    Batches = 4,
}

/// The seeded generator of `stream` under `seed`.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream as u64);
    r
}

/// Seed of the minibatch order of experiments with master seed `seed`: the
/// first word of its [`Stream::Batches`] stream.
pub fn batch_seed(seed: u64) -> u64 {
    rng(seed, Stream::Batches).next_u64()
}
