package checker

import (
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/sim"
)

// Faults is a set of the fault ops the exploration takes besides relabel,
// scale and restart (DESIGN.md, "Trace ops for faults"). The zero value
// explores no faults.
type Faults uint8

// The fault ops, named as in traces.
const (
	// Compact: the API server compacts its history at the current
	// resourceVersion ({"op": "compact"}).
	Compact Faults = 1 << iota
	// Disconnect: every watch connection of one pod ends ({"op":
	// "disconnect", "pods": [o]}).
	Disconnect
	// CacheLag: reads with resourceVersion "0" see the state 0 or 1 write
	// ago ({"op": "cacheLag", "writes": N}, N <= MaxCacheLag).
	CacheLag

	allFaults = Compact | Disconnect | CacheLag
)

// MaxCacheLag is the largest lag the cacheLag op takes in an exploration:
// the watch cache is at most one write behind.
const MaxCacheLag = 1

var faultNames = []struct {
	f    Faults
	name string
}{{Compact, sim.OpCompact}, {Disconnect, sim.OpDisconnect}, {CacheLag, sim.OpCacheLag}}

// FaultNames lists the names ParseFaults takes, in the order String uses.
func FaultNames() []string {
	out := make([]string, len(faultNames))
	for i, n := range faultNames {
		out[i] = n.name
	}
	return out
}

// ParseFaults reads fault op names ("compact", "disconnect", "cacheLag",
// each at most once), e.g. the elements of "compact,disconnect".
func ParseFaults(names []string) (Faults, error) {
	var f Faults
	for _, n := range names {
		var g Faults
		for _, fn := range faultNames {
			if n == fn.name {
				g = fn.f
			}
		}
		switch {
		case g == 0 && n == "":
			return 0, fmt.Errorf("empty fault name: want a comma-separated subset of %s", strings.Join(FaultNames(), ","))
		case g == 0:
			return 0, fmt.Errorf("unknown fault %q: want a comma-separated subset of %s", n, strings.Join(FaultNames(), ","))
		case f&g != 0:
			return 0, fmt.Errorf("fault %s is given twice: give each at most once", n)
		}
		f |= g
	}
	return f, nil
}

// Has reports whether every fault of g is in f.
func (f Faults) Has(g Faults) bool { return f&g == g }

// Names lists the faults of f in a fixed order.
func (f Faults) Names() []string {
	out := []string{}
	for _, fn := range faultNames {
		if f.Has(fn.f) {
			out = append(out, fn.name)
		}
	}
	return out
}

// String renders f as its comma-separated names, "" for none.
func (f Faults) String() string { return strings.Join(f.Names(), ",") }
