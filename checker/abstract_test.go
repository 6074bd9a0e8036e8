package checker

import (
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// canonical reports whether code c of ordinal o is one abstractPod can
// return: for ordinal 0 the configuration 0/0 has one code, not two.
func canonical(s *System, o int, c podCode) bool {
	if !s.isWatching(c) || o != 0 {
		return true
	}
	return (int(c)-2-s.nsel)%s.cfgN != 1
}

// TestAbstractionRoundTrip: every canonical code concretizes to a pod
// state that abstracts back to it, whatever the dropped details.
func TestAbstractionRoundTrip(t *testing.T) {
	for _, r := range model.Reducers() {
		s := mustSystem(t, r, MaxReplicas)
		for o := range s.m {
			for c := range podCode(s.ncodes) {
				if !canonical(s, o, c) {
					continue
				}
				for v := range 9 {
					got, err := s.abstractPod(o, s.concretePod(o, c, v))
					if err != nil || got != c {
						t.Fatalf("%s: pod %d code %d variant %d abstracts to %d, %v", r.Name(), o, c, v, got, err)
					}
				}
			}
		}
	}
}

// TestPodTransitionsMatchModelStep compares the abstract pod transitions
// with model.Step over all abstract inputs: every ordinal, every code,
// every abstract event and API server state, and several concretizations
// of each (the cached object's labels and replicas, the event object's
// labels and resourceVersion), so that what the abstraction drops is shown
// not to matter.
func TestPodTransitionsMatchModelStep(t *testing.T) {
	for _, r := range model.Reducers() {
		for _, m := range []int{1, 3, MaxReplicas} {
			s := mustSystem(t, r, m)
			checked := 0
			for o := range m {
				for c := range podCode(s.ncodes) {
					if !canonical(s, o, c) {
						continue
					}
					for v := range 4 {
						from := s.concretePod(o, c, v)
						// Watch events, with objects newer than anything cached.
						for e := range uint8(s.nev) {
							for l := range numLabels {
								for _, rv := range []string{"2", "17"} {
									ev, ok := s.concreteEvent(e, l, rv)
									if !ok {
										continue
									}
									p, _ := model.Step(r, from, ev)
									got, err := s.abstractPod(o, p)
									want := s.step[o][int(c)*s.nev+int(e)]
									if err != nil || got != want {
										t.Fatalf("%s M=%d pod %d code %d (%+v) event %s %s: Step gives %d (%v), table %d",
											r.Name(), m, o, c, from, ev.Type, describeObj(ev.Object), got, err, want)
									}
									checked++
								}
							}
						}
						// The GET and the LIST, from every API server state.
						for l := range numLabels {
							for n := 0; n <= m; n++ {
								api := newAPIServer(l, n)
								var want podCode
								var ev model.Event
								switch {
								case c == codeStarting:
									ev, want = model.Got{StatefulSet: api.StatefulSet}, s.got[o][l]
								case s.isDetected(c):
									ev, want = model.Listed{Items: api.List(s.sels[s.sel(c)])}, s.deliverTo(o, c, l, n)
								default:
									continue
								}
								p, _ := model.Step(r, from, ev)
								got, err := s.abstractPod(o, p)
								if err != nil || got != want {
									t.Fatalf("%s M=%d pod %d code %d: %T at %s/%d gives %d (%v), table %d", r.Name(), m, o, c, ev, l, n, got, err, want)
								}
								checked++
							}
						}
					}
				}
			}
			t.Logf("%s M=%d: %d transitions compared with model.Step", r.Name(), m, checked)
		}
	}
}

func describeObj(ss *appsv1.StatefulSet) string {
	return fmt.Sprintf("replicas=%d labels=%v rv=%s", *ss.Spec.Replicas, ss.Labels, ss.ResourceVersion)
}

// TestWatchEventsMatchSim compares the abstract watch events with
// sim.WatchEvent on the writes of the simulator's API server, from
// different resourceVersions, for every selector class and every write an
// op can make; and checks that the selector classes are those the
// API server's LIST and the reducer's options give.
func TestWatchEventsMatchSim(t *testing.T) {
	for _, r := range model.Reducers() {
		s := mustSystem(t, r, 4)
		for l := range numLabels {
			if got := r.ListOptions(statefulSet(l, 1, "1")); got != s.opts[s.selOf[l]] {
				t.Fatalf("%s: labels %s give options %+v, class %d has %+v", r.Name(), l, got, s.selOf[l], s.opts[s.selOf[l]])
			}
		}
		for sel := range s.nsel {
			for l1 := range numLabels {
				for n1 := 0; n1 <= s.m; n1++ {
					api := newAPIServer(l1, n1)
					if got, want := len(api.List(s.sels[sel])) == 1, s.sels[sel].Matches(api.StatefulSet); got != want {
						t.Fatalf("LIST and Matches disagree")
					}
					for l2 := range numLabels {
						for n2 := 0; n2 <= s.m; n2++ {
							if (l1 == l2) == (n1 == n2) {
								continue
							}
							for bump := range 3 {
								api := newAPIServer(l1, n1)
								for range bump {
									api.Bump()
								}
								old, cur := api.Update(func(ss *appsv1.StatefulSet) {
									ss.Labels = l2.Labels()
									x := int32(n2)
									ss.Spec.Replicas = &x
								})
								ev, ok := sim.WatchEvent(s.sels[sel], old, cur)
								got, err := s.abstractEvent(ev, ok)
								want := s.ev[s.evIndex(sel, s.writeIndex(l1, n1, l2, n2))]
								if err != nil || got != want {
									t.Fatalf("%s: selector %+v, write %s/%d -> %s/%d: sim.WatchEvent gives %d (%v), table %d", r.Name(), s.opts[sel], l1, n1, l2, n2, got, err, want)
								}
								// The event's object is newer than anything a watching pod caches.
								if ok {
									if rv, _ := strconv.Atoi(ev.Object.ResourceVersion); ev.Type != watch.Deleted && rv < 2 {
										t.Fatalf("event object at resourceVersion %d", rv)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestSelectorClasses pins the label cases: a selector frozen from the
// original labels still matches a superset and stops matching a changed
// value or a removed key; the one built from the labels with a key removed
// matches all four. The field selector has one class, and it matches all.
func TestSelectorClasses(t *testing.T) {
	l := mustSystem(t, model.LabelSelector{}, 2)
	if l.nsel != 4 {
		t.Fatalf("label-selector: %d selector classes, want 4", l.nsel)
	}
	want := map[LabelClass][numLabels]bool{
		Original:     {true, true, false, false},
		Superset:     {false, true, false, false},
		ChangedValue: {false, false, true, false},
		RemovedKey:   {true, true, true, true},
	}
	for from, row := range want {
		for to := range numLabels {
			if got := l.sels[l.selOf[from]].Matches(statefulSet(to, 1, "1")); got != row[to] {
				t.Errorf("selector from %s matches %s: %v, want %v", from, to, got, row[to])
			}
		}
	}
	f := mustSystem(t, model.FieldSelector{}, 2)
	if f.nsel != 1 {
		t.Fatalf("field-selector: %d selector classes, want 1", f.nsel)
	}
}

// TestEagerStarts pins which queued start items the third reduction
// delivers at once: with the field selector both the GET and the LIST
// (the pod ends up following spec.replicas whatever happens in between);
// with the label selector only the LIST of a pod whose selector matches
// every label class (built from the labels with a key removed).
func TestEagerStarts(t *testing.T) {
	for _, r := range model.Reducers() {
		s := mustSystem(t, r, 4)
		for o := range s.m {
			for c := range podCode(s.ncodes) {
				var want bool
				switch {
				case !s.isPending(c):
					want = false
				case r.Name() == "field-selector":
					want = true
				case c == codeStarting:
					want = false
				default:
					want = s.sel(c) == int(s.selOf[RemovedKey])
				}
				if got := s.eager[o][c]; got != want {
					t.Errorf("%s: pod %d code %d: eager %v, want %v", r.Name(), o, c, got, want)
				}
			}
		}
	}
}

// TestStateKeyRoundTrip encodes and decodes states of every shape.
func TestStateKeyRoundTrip(t *testing.T) {
	for _, r := range model.Reducers() {
		s := mustSystem(t, r, MaxReplicas)
		for i := range 10000 {
			var st state
			st.l = LabelClass(i % int(numLabels))
			st.r = uint8(i % (s.m + 1))
			for o := range s.m {
				st.c[o] = podCode((i*7 + o*13 + i/7) % s.ncodes)
			}
			k := s.encode(&st)
			var back state
			s.decode(k, &back)
			if back != st || k&keyMarker == 0 {
				t.Fatalf("%s: %+v -> %x -> %+v", r.Name(), st, k, back)
			}
		}
	}
}
