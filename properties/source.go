package properties

import "math/rand/v2"

// A Source makes the random choices of the generators. The property tests
// back it with rapid's *rapid.T, so that rapid records and shrinks every
// choice; Hunt backs it with a seeded PRNG.
//
// Generators order their choices so that 0 is the simplest one: a
// shrinker that moves a choice towards 0 simplifies the trace.
type Source interface {
	// Draw returns a choice in [0, n); n is at least 1. label names the
	// choice in logs.
	Draw(label string, n int) int
}

// RandSource is a Source drawing from a PCG generator: the same seed and
// stream give the same choices on every machine.
type RandSource struct{ r *rand.Rand }

// NewRandSource returns a Source for one seed and stream. Hunt uses the
// trace index as the stream, so that trace i of a seed is the same
// whatever the number of traces searched.
func NewRandSource(seed, stream uint64) *RandSource {
	return &RandSource{r: rand.New(rand.NewPCG(seed, stream))}
}

// Draw implements Source.
func (s *RandSource) Draw(_ string, n int) int { return s.r.IntN(n) }
