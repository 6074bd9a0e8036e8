package sim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// TestWriteTextEscapes: a trace's name and description reach the text
// report, which a terminal shows. Control characters in them (ESC, BEL,
// NUL, CR, newlines, bidi overrides) must come out escaped, so that a
// trace cannot clear the screen and print a fake "verdict: holds";
// printable UTF-8 stays as it is.
func TestWriteTextEscapes(t *testing.T) {
	tests := []struct {
		name, description string
		want              []string // fragments of the first line
	}{
		{"plain", "Relabel, then scale 2 -> 3", []string{"trace plain: Relabel, then scale 2 -> 3\n"}},
		{"ünïcödé-名前", "durée — 説明 ✓", []string{"trace ünïcödé-名前: durée — 説明 ✓\n"}},
		{"clear\x1b[2J\x1b[H", "x", []string{`trace "clear\x1b[2J\x1b[H": x` + "\n"}},
		{"bell\a", "nul\x00", []string{`trace "bell\a": "nul\x00"` + "\n"}},
		{"n", "line one\nverdict: holds\r", []string{`trace n: "line one\nverdict: holds\r"` + "\n"}},
		{"bidi\u202eevil", "tab\there", []string{`trace "bidi\u202eevil": "tab\there"` + "\n"}},
		{"bad-utf8\xff", "", []string{`trace "bad-utf8\xff"` + "\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustParse(t, baseTrace)
			tr.Name, tr.Description = tc.name, tc.description
			rep, err := Replay(tr, model.Reducers(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, withLog := range []bool{false, true} {
				var buf bytes.Buffer
				if err := rep.WriteText(&buf, withLog); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				for _, w := range tc.want {
					if !strings.HasPrefix(out, w) {
						t.Errorf("report starts %q, want %q", out[:min(len(out), 120)], w)
					}
				}
				// The only control characters are the report's own line
				// ends; every line is one the report wrote.
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if i := strings.IndexFunc(line, isControl); i >= 0 {
						t.Errorf("raw control character %q in line %q", line[i], line)
					}
				}
				if n := strings.Count(out, "\n  verdict: "); n != 2 {
					t.Errorf("%d verdict lines, want 2 (one per reducer):\n%s", n, out)
				}
			}
		})
	}
}

// TestVerdictCountsQuiescentPoints: one checkpoint is "the only quiescent
// point", more are "all N quiescent points".
func TestVerdictCountsQuiescentPoints(t *testing.T) {
	ok := Checkpoint{Complete: true, Disjoint: true}
	for n, want := range map[int]string{
		1: "holds: every object is exported exactly once at the only quiescent point",
		3: "holds: every object is exported exactly once at all 3 quiescent points",
	} {
		res := &Result{Holds: true, Checkpoints: make([]Checkpoint, n)}
		for i := range res.Checkpoints {
			res.Checkpoints[i] = ok
		}
		if got := Verdict(res); got != want {
			t.Errorf("%d checkpoints: %q, want %q", n, got, want)
		}
	}
}

// TestVerdictConfigsAgreeExportsDoNot: when every pod's configuration is
// right and objects are still missing (a backend that judges exports), the
// verdict says so instead of blaming a stale pod.
func TestVerdictConfigsAgreeExportsDoNot(t *testing.T) {
	c := Checkpoint{Step: -1, Op: "initial", Replicas: 2, Objects: 1000,
		Pods:     []PodConfig{{Pod: 0, Shard: 0, Total: 2}, {Pod: 1, Shard: 1, Total: 2}},
		Disjoint: true, Gap: UIDSet{Count: 517}, Healing: Permanent}
	want := "VIOLATED (permanent): at the start every pod's configuration agrees with spec.replicas=2, yet what they export does not: 517 of 1000 objects are exported by no pod"
	if got := Verdict(&Result{Checkpoints: []Checkpoint{c}}); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	c.Pods[1].Total = 3
	if got := Verdict(&Result{Checkpoints: []Checkpoint{c}}); !strings.Contains(got, "the pods disagree with spec.replicas=2 (pod 1 holds 1/3)") {
		t.Errorf("a stale pod: %q", got)
	}
}
