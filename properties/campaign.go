package properties

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// A campaign is Hunt's random-trace generator run for a fixed number of
// traces without stopping at the first violation: every trace is checked,
// every violating one is shrunk, and the distinct shrunk counterexamples
// are kept. Trace k of a campaign is trace k of the hunt with the same
// seed (NewRandSource(seed, k)), so a campaign partitions trivially: slice
// I of C runs the traces k with k % C == I, and the union of the C slices
// is the one-process campaign, trace for trace. Interleaved slices rather
// than contiguous ranges keep the slices alike: whatever makes some
// traces slower (their length, their schedule) is spread over all of
// them.

// CampaignSliceFormat is the "format" of a campaign slice file; merge
// refuses other formats.
const CampaignSliceFormat = "shardsim.campaign.slice/v1"

// DisagreementKind is the Kind of a campaign counterexample on which the
// backend's verdict differs from the model's.
const DisagreementKind = "disagreement"

// CampaignOptions say which campaign to run and which slice of it.
type CampaignOptions struct {
	// HuntOptions are the generator's: Reducer, Seed, Traces (the whole
	// campaign's), MaxOps, Gen, and the slice's Progress (Tried and
	// Traces count the slice's traces).
	HuntOptions
	// Index and Count select slice Index of Count (Count 0 means 1).
	Index, Count int
	// Backend replays every generated trace; the verdict of a trace is
	// the backend's. nil is the model: the generator's own verdict,
	// nothing is replayed twice.
	Backend sim.NewBackend
	// Run is the reducer Backend replays, when it is not
	// model.ReducerByName(Reducer) (the ksm backend names the KSM build
	// it runs through a wrapper).
	Run model.Reducer
	// Origin is the command line of the campaign, for the
	// counterexamples' descriptions.
	Origin string
}

// A CampaignCounterexample is one distinct shrunk counterexample of a
// campaign (or of a slice of it).
type CampaignCounterexample struct {
	// Key identifies the shrunk form: see CounterexampleKey.
	Key string `json:"key"`
	// Kind classifies it (Classify), or is DisagreementKind.
	Kind string `json:"kind"`
	// Traces counts the campaign's traces that shrank to it.
	Traces int `json:"traces"`
	// First is the smallest of those traces' indices; Trace is its
	// shrunk form, named and described after it.
	First int `json:"first"`
	// ModelHolds and BackendHolds are the verdicts on Trace of the model
	// and, when the campaign replays a backend, of the backend (nil for
	// the model backend). For a violation both are normally false; a
	// backend that holds on the shrunk trace of a violation it showed on
	// the generated one says that the model's shrinker, which replays the
	// model, kept what the model needs rather than what the backend does.
	ModelHolds   bool  `json:"modelHolds"`
	BackendHolds *bool `json:"backendHolds,omitempty"`
	// Trace is the shrunk counterexample, an ordinary trace file:
	// explicit schedule, Expect filled by replaying the model.
	Trace *sim.Trace `json:"trace"`
}

// CampaignTiming is the wall-clock time a slice took: not deterministic,
// and so kept apart from everything else of a result.
type CampaignTiming struct {
	Elapsed time.Duration `json:"elapsedNs"` // the whole slice
	Shrink  time.Duration `json:"shrinkNs"`  // of which shrinking
}

// A CampaignSlice is the result of one slice of a campaign.
type CampaignSlice struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Traces is the number of traces the slice ran (SliceTraces).
	Traces int `json:"traces"`
	// Violations counts the traces whose verdict (the backend's) is
	// violated; Disagreements those on which the backend's verdict and
	// the model's differ (always 0 on the model backend).
	Violations    int `json:"violations"`
	Disagreements int `json:"disagreements"`
	// Unsupported counts the traces the backend cannot replay (they use
	// what it does not model: sim.ErrUnsupported), which have no verdict;
	// FirstUnsupported is the first of them, with the reason.
	Unsupported      int               `json:"unsupported,omitempty"`
	FirstUnsupported *UnsupportedTrace `json:"firstUnsupported,omitempty"`
	// Counterexamples are the distinct shrunk counterexamples, by First.
	Counterexamples []CampaignCounterexample `json:"counterexamples"`
	Timing          CampaignTiming           `json:"timing"`
}

// An UnsupportedTrace is a trace of a campaign that its backend cannot
// replay, and why.
type UnsupportedTrace struct {
	Trace  int    `json:"trace"`
	Reason string `json:"reason"`
}

// SliceTraces is the number of traces slice index of count runs in a
// campaign of n traces: those k < n with k % count == index.
func SliceTraces(n, index, count int) int {
	if count < 1 || index < 0 || index >= count || n <= index {
		return 0
	}
	return (n-index-1)/count + 1
}

// CounterexampleKey identifies a shrunk counterexample by its form: the
// SHA-256, in hex, of the canonical JSON of its cluster, schedules,
// judgement and steps, without its name, description and expect (which
// name the trace that found it) and without its objects: the UIDs of
// cluster.objects and of create and delete steps, and their number. Which
// objects a shrunk counterexample keeps is an artefact of the trace it
// came from (the shrinker keeps those the violation touched, and random
// traces touch different ones), so without this abstraction nearly every
// violating trace would be a "distinct" counterexample of the same two
// ops. Two counterexamples that differ only in their objects are one; the
// page size, which decides with the objects whether a list is paged, is
// kept.
func CounterexampleKey(t *sim.Trace) string {
	c := CloneTrace(t)
	c.Name, c.Description, c.Expect = "", "", nil
	c.Cluster.Objects = sim.Objects{}
	for i := range c.Steps {
		c.Steps[i].UIDs, c.Steps[i].Generate, c.Steps[i].Seed = nil, 0, 0
	}
	data, err := json.Marshal(c) // maps are sorted: canonical
	if err != nil {
		panic(err) // a sim.Trace always marshals
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// RunCampaignSlice runs slice opts.Index of opts.Count of the campaign
// opts describes: it generates each trace k < opts.Traces with
// k % Count == Index, exactly as Hunt does, checks it (on opts.Backend
// when set), shrinks every violating trace and keeps the distinct shrunk
// forms. Its result does not depend on the slicing: the union of the
// slices' counterexamples (MergeCampaign) is that of one slice of one.
//
// On the model backend a violating trace is shrunk and prepared as Hunt
// does (Prepare). On another backend, a trace on which both the backend
// and the model are violated is shrunk on the model and the shrunk trace
// replayed once on the backend (BackendHolds); a trace on which they
// disagree is a counterexample of kind DisagreementKind, shrunk with the
// same passes but on the predicate "they still disagree", each
// candidate replayed on both. A trace the backend cannot replay
// (sim.ErrUnsupported: it uses what the backend does not model) is counted
// as Unsupported and has no verdict; a backend that fails otherwise is an
// error.
func RunCampaignSlice(opts CampaignOptions) (*CampaignSlice, error) {
	opts.HuntOptions = opts.withDefaults()
	if opts.Count == 0 {
		opts.Count = 1
	}
	reducer, ok := model.ReducerByName(opts.Reducer)
	if !ok {
		return nil, fmt.Errorf("unknown reducer %q, want %s", opts.Reducer, model.KnownReducers())
	}
	if opts.Traces < 0 || opts.MaxOps < 0 {
		return nil, fmt.Errorf("traces and ops must not be negative, got %d and %d", opts.Traces, opts.MaxOps)
	}
	if opts.Count < 1 || opts.Index < 0 || opts.Index >= opts.Count {
		return nil, fmt.Errorf("slice index %d of %d: want 0 <= index < count", opts.Index, opts.Count)
	}
	if err := opts.checkMode(); err != nil {
		return nil, err
	}
	if opts.Mode != "" && opts.Backend != nil {
		return nil, fmt.Errorf("a campaign of mode %s runs on the model only (replay its counterexamples on a backend with simrun --trace)", opts.Mode)
	}
	if opts.Run == nil {
		opts.Run = reducer
	}
	if opts.Origin == "" {
		opts.Origin = fmt.Sprintf("simrun campaign --reducer %s --seed %d --traces %d", opts.Reducer, opts.Seed, opts.Traces) + huntFlags(opts.HuntOptions)
	}
	out := &CampaignSlice{Index: opts.Index, Count: opts.Count, Traces: SliceTraces(opts.Traces, opts.Index, opts.Count)}
	start := time.Now()
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	next := start.Add(2 * interval)
	reported := false
	report := func(tried int) {
		if opts.Progress != nil {
			opts.Progress(HuntProgress{Tried: tried, Traces: out.Traces, Elapsed: time.Since(start)})
			reported = true
		}
	}
	byKey := map[string]int{} // key -> index in out.Counterexamples
	done := 0
	for k := opts.Index; k < opts.Traces; k += opts.Count {
		if opts.Progress != nil && done > 0 {
			if now := time.Now(); !now.Before(next) {
				report(done)
				next = now.Add(interval)
			}
		}
		ce, err := opts.check(k, out)
		if errors.Is(err, sim.ErrUnsupported) {
			out.Unsupported++
			if out.FirstUnsupported == nil {
				out.FirstUnsupported = &UnsupportedTrace{Trace: k, Reason: err.Error()}
			}
			done++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("trace %d: %w", k, err)
		}
		done++
		if ce == nil {
			continue
		}
		out.Timing.Shrink += ce.shrink
		if i, ok := byKey[ce.Key]; ok {
			out.Counterexamples[i].Traces++ // k grows: First stays
			continue
		}
		byKey[ce.Key] = len(out.Counterexamples)
		out.Counterexamples = append(out.Counterexamples, ce.CampaignCounterexample)
	}
	if reported {
		report(done)
	}
	out.Timing.Elapsed = time.Since(start)
	return out, nil
}

// found is a counterexample of one trace, with the time its shrink took.
type found struct {
	CampaignCounterexample
	shrink time.Duration
}

// check generates and checks trace k, counting it in out, and returns its
// shrunk counterexample, or nil if the trace holds (on the backend and on
// the model alike).
func (o CampaignOptions) check(k int, out *CampaignSlice) (*found, error) {
	if o.Mode != "" {
		return o.checkModeTrace(k, out)
	}
	t, modelViolated := generateAll(NewRandSource(o.Seed, uint64(k)), o.HuntOptions)
	violated := modelViolated
	if o.Backend != nil {
		holds, err := o.backendHolds(t)
		if err != nil {
			return nil, err
		}
		violated = !holds
	}
	if violated {
		out.Violations++
	}
	if violated != modelViolated {
		out.Disagreements++
		return o.disagreement(k, t, !modelViolated)
	}
	if !violated {
		return nil, nil
	}
	ce, err := Prepare(t, o.Reducer, o.Origin, fmt.Sprintf("seed-%d-trace-%d", o.Seed, k))
	if err != nil {
		return nil, err
	}
	ce.Options, ce.Index = o.HuntOptions, k
	ce.Options.Progress = nil
	ce.Trace.Description = ce.describe()
	f := &found{CampaignCounterexample: CampaignCounterexample{
		Key: CounterexampleKey(ce.Trace), Kind: ce.Kind, Traces: 1, First: k, Trace: ce.Trace,
	}, shrink: ce.ShrinkTime}
	if o.Backend != nil {
		holds, err := o.backendHolds(ce.Trace)
		if err != nil {
			return nil, fmt.Errorf("the shrunk counterexample: %w", err)
		}
		f.BackendHolds = &holds
	}
	return f, nil
}

// checkModeTrace is check for a campaign of static or DaemonSet sharding
// (HuntOptions.Mode), on the model: trace k is generated and shrunk as a
// hunt of that mode does (generateMode, prepareMode).
func (o CampaignOptions) checkModeTrace(k int, out *CampaignSlice) (*found, error) {
	t := generateMode(NewRandSource(o.Seed, uint64(k)), o.HuntOptions)
	if t == nil {
		return nil, nil
	}
	out.Violations++
	opts := o.HuntOptions
	opts.Progress = nil
	ce, err := prepareMode(t, opts, k)
	if err != nil {
		return nil, err
	}
	ce.Trace.Name = fmt.Sprintf("%s-%s-seed-%d-trace-%d", o.Reducer, ce.Kind, o.Seed, k)
	ce.Trace.Description = strings.Replace(ce.Trace.Description, "`"+ce.Origin+"`", "`"+o.Origin+"`", 1)
	return &found{CampaignCounterexample: CampaignCounterexample{
		Key: CounterexampleKey(ce.Trace), Kind: ce.Kind, Traces: 1, First: k, Trace: ce.Trace,
	}, shrink: ce.ShrinkTime}, nil
}

// backendHolds replays t on the campaign's backend and returns its
// verdict.
func (o CampaignOptions) backendHolds(t *sim.Trace) (bool, error) {
	res, err := sim.Run(CloneTrace(t), o.Run, sim.Options{Backend: o.Backend})
	if err != nil {
		return false, fmt.Errorf("backend: %w", err)
	}
	return res.Holds, nil
}

// modelHolds replays t on the model; ok is false when it does not
// replay (an invalid shrink candidate).
func (o CampaignOptions) modelHolds(t *sim.Trace) (holds, ok bool) {
	r, _ := model.ReducerByName(o.Reducer)
	if t.Validate() != nil {
		return false, false
	}
	res, err := sim.Run(CloneTrace(t), r, sim.Options{})
	if err != nil {
		return false, false
	}
	return res.Holds, true
}

// disagreement shrinks t, trace k, on which the model's verdict
// (modelHolds) and the backend's differ, while they still differ, and
// returns it as a counterexample of kind DisagreementKind. The shrink
// runs the generic passes of Shrink on the explicit form of t; when the
// disagreement does not survive the move to the explicit schedule, t is
// kept as generated.
func (o CampaignOptions) disagreement(k int, t *sim.Trace, modelHolds bool) (*found, error) {
	start := time.Now()
	var berr error
	differ := func(c *sim.Trace) bool {
		m, ok := o.modelHolds(c)
		if !ok || berr != nil {
			return false
		}
		b, err := o.backendHolds(c)
		if errors.Is(err, sim.ErrUnsupported) {
			return false // a candidate the backend cannot replay
		}
		if err != nil {
			// An invalid candidate may fail the backend where the model
			// replays it; only a failure on a trace the model replays
			// is the backend's.
			berr = err
			return false
		}
		return m != b
	}
	cur := CloneTrace(t)
	if x := toExplicit(t); differ(x) {
		cur = x
		try := func(c *sim.Trace) bool {
			if c != nil && differ(c) {
				cur = c
				return true
			}
			return false
		}
		for changed := true; changed; {
			changed = false
			for _, pass := range []func(*sim.Trace, func(*sim.Trace) bool) bool{
				removeSteps, absorbFirstScale, lowerInitialReplicas, lowerScales, singleRestarts, simplerLabels, mergeSteps,
				removeWithFewerDeliveries, lowerCacheLags, eagerDataPlane, defaultAPIServer, lowerPageSize,
				fewerObjects(true), fewerCreated(true), createdAtStart(true),
			} {
				for pass(cur, try) {
					changed = true
				}
			}
		}
	}
	if berr != nil {
		return nil, berr
	}
	backendHolds := !modelHolds
	cur.Name = fmt.Sprintf("%s-%s-seed-%d-trace-%d", o.Reducer, DisagreementKind, o.Seed, k)
	cur.Description = fmt.Sprintf("Found by `%s` in generated trace %d (%d steps, %s schedule) and shrunk to %d steps: the model %s, the backend %s.",
		o.Origin, k, len(t.Steps), t.Schedule, len(cur.Steps), verdictWord(modelHolds), verdictWord(backendHolds))
	cur.Expect = nil
	return &found{CampaignCounterexample: CampaignCounterexample{
		Key: CounterexampleKey(cur), Kind: DisagreementKind, Traces: 1, First: k,
		ModelHolds: modelHolds, BackendHolds: &backendHolds, Trace: cur,
	}, shrink: time.Since(start)}, nil
}

func verdictWord(holds bool) string {
	if holds {
		return sim.Holds
	}
	return sim.Violated
}

// generateAll draws trace k as generate does, and returns it whether or
// not it violates opts.Reducer's properties: cut after the op that broke
// them (violated), or whole.
func generateAll(src Source, opts HuntOptions) (t *sim.Trace, violated bool) {
	b := NewBuilder(src, opts.genConfig())
	defer b.Close()
	n := 1 + src.Draw("ops", opts.MaxOps)
	for range n {
		b.Op(src)
		if !b.Holds(opts.Reducer) {
			return CloneTrace(b.Trace()), true
		}
	}
	return CloneTrace(b.Trace()), false
}

// CampaignID identifies a campaign: what merge requires every slice file
// to share. The slice count is checked apart (every file must have the
// same), since the merged result does not depend on it.
type CampaignID struct {
	Reducer string `json:"reducer"`
	// Backend is what ran the pods: "model", "client-go", "ksm", with
	// the KSM build when one was chosen.
	Backend   string `json:"backend"`
	Seed      uint64 `json:"seed"`
	Traces    int    `json:"traces"`
	MaxOps    int    `json:"maxOps"`
	Faults    bool   `json:"faults,omitempty"`
	APIServer bool   `json:"apiServer,omitempty"`
	// Mode is the sharding mode (HuntOptions.Mode), "" for autosharding.
	Mode string `json:"mode,omitempty"`
}

// String renders id for messages, e.g. "label-selector on the model
// backend, seed 1, 60 traces of up to 24 ops, with fault ops".
func (id CampaignID) String() string {
	s := fmt.Sprintf("%s on the %s backend, seed %d, %d traces of up to %d ops", id.Reducer, id.Backend, id.Seed, id.Traces, id.MaxOps)
	if id.Faults {
		s += ", with fault ops"
	}
	if id.APIServer {
		s += ", drawing the API server's configuration"
	}
	if id.Mode != "" {
		s += ", " + id.Mode + " sharding"
	}
	return s
}

// A SliceFile is the content of one slice's result file.
type SliceFile struct {
	Format   string     `json:"format"` // CampaignSliceFormat
	Campaign CampaignID `json:"campaign"`
	CampaignSlice
}

// MarshalSlice renders f as a slice file: indented JSON ending in a
// newline, the format set.
func MarshalSlice(f *SliceFile) ([]byte, error) {
	c := *f
	c.Format = CampaignSliceFormat
	if c.Counterexamples == nil {
		c.Counterexamples = []CampaignCounterexample{}
	}
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ParseSlice parses a slice file; path names it in errors. It checks the
// format and that the file is consistent in itself: the index within the
// count, the number of traces that of the slice, the counts within it.
func ParseSlice(path string, data []byte) (*SliceFile, error) {
	var f SliceFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: not a campaign slice file: %v", path, err)
	}
	if f.Format != CampaignSliceFormat {
		return nil, fmt.Errorf("%s: not a campaign slice file: format %q, want %q", path, f.Format, CampaignSliceFormat)
	}
	switch {
	case f.Count < 1 || f.Index < 0 || f.Index >= f.Count:
		return nil, fmt.Errorf("%s: index %d of %d: want 0 <= index < count", path, f.Index, f.Count)
	case f.Traces != SliceTraces(f.Campaign.Traces, f.Index, f.Count):
		return nil, fmt.Errorf("%s: %d traces, but slice %d of %d of %d traces has %d", path, f.Traces, f.Index, f.Count, f.Campaign.Traces, SliceTraces(f.Campaign.Traces, f.Index, f.Count))
	case f.Violations < 0 || f.Violations > f.Traces || f.Disagreements < 0 || f.Disagreements > f.Traces || f.Unsupported < 0 || f.Unsupported > f.Traces:
		return nil, fmt.Errorf("%s: %d violations, %d disagreements and %d unsupported traces in %d traces", path, f.Violations, f.Disagreements, f.Unsupported, f.Traces)
	case (f.Unsupported > 0) != (f.FirstUnsupported != nil):
		return nil, fmt.Errorf("%s: %d unsupported traces, first %v", path, f.Unsupported, f.FirstUnsupported)
	}
	for i, c := range f.Counterexamples {
		if c.Trace == nil || c.Key == "" || c.Traces < 1 || c.First < 0 || c.First >= f.Campaign.Traces || c.First%f.Count != f.Index {
			return nil, fmt.Errorf("%s: counterexamples[%d]: incomplete, or not of this slice (key %q, first trace %d, %d traces)", path, i, c.Key, c.First, c.Traces)
		}
	}
	return &f, nil
}

// A LoadedSlice is a slice file and where it was read from.
type LoadedSlice struct {
	Path string
	*SliceFile
}

// SliceTiming is one slice's line of a merged report.
type SliceTiming struct {
	Index         int            `json:"index"`
	Path          string         `json:"file"`
	Traces        int            `json:"traces"`
	Violations    int            `json:"violations"`
	Disagreements int            `json:"disagreements"`
	Timing        CampaignTiming `json:"timing"`
}

// A CampaignReport merges the slices of a campaign.
type CampaignReport struct {
	Campaign CampaignID `json:"campaign"`
	// Missing lists the slices not merged (only a partial merge has
	// any); Count is the slice count, which the rest does not depend on.
	Count   int   `json:"-"`
	Missing []int `json:"missing,omitempty"`
	// Run is the number of traces the merged slices ran.
	Run           int `json:"run"`
	Violations    int `json:"violations"`
	Disagreements int `json:"disagreements"`
	// Unsupported and FirstUnsupported sum and pick those of the slices.
	Unsupported      int               `json:"unsupported,omitempty"`
	FirstUnsupported *UnsupportedTrace `json:"firstUnsupported,omitempty"`
	// Counterexamples are the distinct shrunk counterexamples of all
	// slices, by First.
	Counterexamples []CampaignCounterexample `json:"counterexamples"`
	// Slices are the slices' timings, by index (wall-clock: not
	// deterministic).
	Slices []SliceTiming `json:"slices,omitempty"`
}

// SliceSetError says why a set of slice files is not one campaign.
type SliceSetError struct {
	// Mismatch is set when the files are of different campaigns (or
	// slice counts): one line per group of files, naming its first file.
	Mismatch []string
	// Duplicates are the files that claim an index another file
	// already claims.
	Duplicates []DuplicateSlice
	// Missing are the indices no file claims (when the set is otherwise
	// consistent); Count the slice count.
	Missing []int
	Count   int
}

func (e *SliceSetError) Error() string {
	var parts []string
	if len(e.Mismatch) > 0 {
		parts = append(parts, "the slice files are not of one campaign: "+strings.Join(e.Mismatch, "; "))
	}
	for _, d := range e.Duplicates {
		parts = append(parts, fmt.Sprintf("%s and %s both hold slice %d", d.First, d.Second, d.Index))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d slices missing: %s", len(e.Missing), e.Count, FormatIndices(e.Missing)))
	}
	return strings.Join(parts, "; ")
}

// A DuplicateSlice is two files that hold the same slice.
type DuplicateSlice struct {
	Index         int
	First, Second string
}

// FormatIndices renders sorted indices with runs collapsed: "3, 5-7, 9".
func FormatIndices(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(xs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", xs[i], xs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// MergeCampaign merges the slices of one campaign: counts summed,
// counterexamples deduplicated by Key (Traces summed, the one with the
// smallest First kept). It returns a *SliceSetError when the files are
// of different campaigns or slice counts, when two claim the same index,
// or, unless partial, when an index is missing; with partial, the
// missing indices are listed in the report instead.
func MergeCampaign(files []LoadedSlice, partial bool) (*CampaignReport, error) {
	if len(files) == 0 {
		return nil, errors.New("no slice files to merge")
	}
	type group struct {
		id    CampaignID
		count int
	}
	var groups []group
	first := map[group]string{}
	members := map[group]int{}
	for _, s := range files {
		g := group{s.Campaign, s.Count}
		if _, ok := first[g]; !ok {
			groups = append(groups, g)
			first[g] = s.Path
		}
		members[g]++
	}
	if len(groups) > 1 {
		e := &SliceSetError{}
		for _, g := range groups {
			e.Mismatch = append(e.Mismatch, fmt.Sprintf("%s and %d other file(s): %s, %d slices", first[g], members[g]-1, g.id, g.count))
		}
		return nil, e
	}
	id, count := groups[0].id, groups[0].count
	byIndex := map[int]LoadedSlice{}
	e := &SliceSetError{Count: count}
	for _, s := range files {
		if o, ok := byIndex[s.Index]; ok {
			e.Duplicates = append(e.Duplicates, DuplicateSlice{Index: s.Index, First: o.Path, Second: s.Path})
			continue
		}
		byIndex[s.Index] = s
	}
	rep := &CampaignReport{Campaign: id, Count: count}
	for i := range count {
		if _, ok := byIndex[i]; !ok {
			rep.Missing = append(rep.Missing, i)
		}
	}
	if len(e.Duplicates) > 0 || (len(rep.Missing) > 0 && !partial) {
		e.Missing = rep.Missing
		return nil, e
	}
	byKey := map[string]int{}
	for i := range count {
		s, ok := byIndex[i]
		if !ok {
			continue
		}
		rep.Run += s.Traces
		rep.Violations += s.Violations
		rep.Disagreements += s.Disagreements
		rep.Unsupported += s.Unsupported
		if u := s.FirstUnsupported; u != nil && (rep.FirstUnsupported == nil || u.Trace < rep.FirstUnsupported.Trace) {
			rep.FirstUnsupported = u
		}
		rep.Slices = append(rep.Slices, SliceTiming{Index: i, Path: s.Path, Traces: s.Traces, Violations: s.Violations, Disagreements: s.Disagreements, Timing: s.Timing})
		for _, c := range s.Counterexamples {
			j, ok := byKey[c.Key]
			if !ok {
				byKey[c.Key] = len(rep.Counterexamples)
				rep.Counterexamples = append(rep.Counterexamples, c)
				continue
			}
			m := &rep.Counterexamples[j]
			traces := m.Traces + c.Traces
			if c.First < m.First {
				*m = c
			}
			m.Traces = traces
		}
	}
	slices.SortFunc(rep.Counterexamples, func(a, b CampaignCounterexample) int { return a.First - b.First })
	if rep.Counterexamples == nil {
		rep.Counterexamples = []CampaignCounterexample{}
	}
	return rep, nil
}
