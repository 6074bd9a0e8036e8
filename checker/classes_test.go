package checker

import (
	"testing"

	"github.com/shardsim/shardsim/model"
)

// TestEveryClassHasAUID: for M <= 8, each of the 2^(M-1) jump-hash
// trajectory classes over totals 1..M is the class of some UID, so a
// verdict over all classes is a verdict over every possible UID (and not
// an over-approximation with impossible classes). One search for M = 8
// covers the smaller M too (a class for M-1 is a prefix), but each M is
// checked on its own.
func TestEveryClassHasAUID(t *testing.T) {
	for m := 1; m <= MaxReplicas; m++ {
		c := NewClasses(m)
		uids, err := c.FindAllUIDs(1)
		if err != nil {
			t.Fatalf("M=%d: %v", m, err)
		}
		for cl, u := range uids {
			h := model.HashUID(u)
			if got := c.Of(h); got != cl {
				t.Fatalf("M=%d: UID %s is of class %d, found for %d", m, u, got, cl)
			}
			// The class fixes the owner for every total, as jump hash computes it.
			for n := 1; n <= m; n++ {
				if got, want := c.Owner(cl, n), model.Owner(h, n); got != want {
					t.Fatalf("M=%d class %d total %d: Owner %d, jump hash %d", m, cl, n, got, want)
				}
			}
		}
		t.Logf("M=%d: %d classes, each with a UID", m, c.Len())
	}
}

// TestClassTrajectories checks the class encoding against monotonicity:
// from n to n+1 buckets an owner stays or becomes n.
func TestClassTrajectories(t *testing.T) {
	c := NewClasses(MaxReplicas)
	for cl := range c.Len() {
		if c.Owner(cl, 1) != 0 {
			t.Fatalf("class %d: owner %d for 1 shard", cl, c.Owner(cl, 1))
		}
		for n := 1; n < MaxReplicas; n++ {
			a, b := c.Owner(cl, n), c.Owner(cl, n+1)
			moved := cl&(1<<(n-1)) != 0
			if (moved && b != int32(n)) || (!moved && b != a) {
				t.Fatalf("class %d: %d -> %d going from %d to %d shards (moved %v)", cl, a, b, n, n+1, moved)
			}
		}
	}
}

// TestEvaluate covers the fast path and the per-class sets.
func TestEvaluate(t *testing.T) {
	c := NewClasses(4)
	cfg := func(pairs ...int) []model.Config {
		var out []model.Config
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, model.Config{Shard: int32(pairs[i]), Total: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name           string
		configs        []model.Config
		desired        int
		gaps, overlaps int
	}{
		{"agree", cfg(0, 3, 1, 3, 2, 3), 3, 0, 0},
		{"agree, stale against desired", cfg(0, 2, 1, 2), 4, 0, 0},
		{"no pods, none desired", nil, 0, 0, 0},
		{"no pods", nil, 2, 8, 0},
		{"unconfigured pod", cfg(0, 0), 1, 8, 0},
		{"stale smaller total overlaps", cfg(0, 1, 1, 2), 2, 0, 4},
		{"stale larger total leaves gaps", cfg(0, 4, 1, 4), 2, 6, 0}, // owners 0 and 1 of 4: 1 class each
		{"gaps not required at 0 desired", cfg(0, 4), 0, 0, 0},
		{"a shard twice", cfg(0, 2, 0, 2, 1, 2), 2, 0, 4},
		{"shard beyond total keeps nothing", cfg(0, 1, 3, 2), 2, 0, 0},
	}
	for _, tt := range tests {
		v := c.Evaluate(tt.configs, tt.desired)
		if v.Gap.len() != tt.gaps || v.Overlap.len() != tt.overlaps {
			t.Errorf("%s: %d gap classes, %d overlap classes; want %d, %d", tt.name, v.Gap.len(), v.Overlap.len(), tt.gaps, tt.overlaps)
		}
	}
}
