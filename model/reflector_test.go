package model

import (
	"fmt"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/watch"
)

func uids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("uid-%03d", i)
	}
	return out
}

func keptBy(all []string, shard int32, total int) []string {
	var out []string
	for _, u := range all {
		if Keeps(u, shard, total) {
			out = append(out, u)
		}
	}
	return out
}

func step(t *testing.T, r Reflector, e Event) Reflector {
	t.Helper()
	r, note := StepReflector(r, e)
	t.Logf("%T => %s; next %s", e, note, r.Request)
	return r
}

// TestShardedListDropsContinue: a sharded pod's paged list stops after its
// first page (KSM until v2.20.0, #3065); the plain ListWatch of shard 0 of
// 1 follows the continue token through every page.
func TestShardedListDropsContinue(t *testing.T) {
	all := uids(5)
	first := Page{UIDs: all[:2], ResourceVersion: "7", Continue: "7/uid-001"}
	rest := Page{UIDs: all[2:], ResourceVersion: "7"}

	r := NewReflector(1, 2, KSMListWatch, 2)
	if r.Watching || r.Request != (Request{ResourceVersion: "0", Limit: 2}) {
		t.Fatalf("first request %+v", r.Request)
	}
	r = step(t, r, ObjectsListed{Page: first})
	if !r.Watching || !r.Truncated || !slices.Equal(r.Store, keptBy(all[:2], 1, 2)) {
		t.Fatalf("sharded: watching %v truncated %v store %v", r.Watching, r.Truncated, r.Store)
	}
	if r.Request != (Request{Watch: true, ResourceVersion: "7"}) {
		t.Fatalf("sharded: next %+v", r.Request)
	}

	p := NewReflector(0, 1, KSMListWatch, 2)
	p = step(t, p, ObjectsListed{Page: first})
	if p.Watching || p.Request != (Request{Limit: 2, Continue: "7/uid-001"}) {
		t.Fatalf("plain: after the first page %+v", p.Request)
	}
	p = step(t, p, ObjectsListed{Page: rest})
	if !p.Watching || p.Truncated || !slices.Equal(p.Store, all) || !p.PaginatedResult {
		t.Fatalf("plain: store %v truncated %v paginated %v", p.Store, p.Truncated, p.PaginatedResult)
	}
	// v2.20.0 keeps the token: the sharded pod reads every page too.
	f := NewReflector(1, 2, ListWatchRules{}, 2)
	f = step(t, f, ObjectsListed{Page: first})
	f = step(t, f, ObjectsListed{Page: rest})
	if !slices.Equal(f.Store, keptBy(all, 1, 2)) || f.Truncated {
		t.Fatalf("continue kept: store %v", f.Store)
	}
}

// TestReflectorGone walks client-go's 410 paths: a list that fails with
// 410 retries at resourceVersion ""; an expired continue token falls back
// to a full list; a watch ended by 410 relists from the last synced
// resourceVersion, unpaged unless an earlier list from "0" was paged.
func TestReflectorGone(t *testing.T) {
	gone := ObjectsListed{Page: Page{Expired: true}}
	r := NewReflector(0, 2, KSMListWatch, 500)
	r = step(t, r, gone)
	if !r.LastSyncResourceVersionUnavailable || r.Request != (Request{ResourceVersion: "", Limit: 500}) {
		t.Fatalf("after a 410 list: %+v unavailable %v", r.Request, r.LastSyncResourceVersionUnavailable)
	}
	r = step(t, r, ObjectsListed{Page: Page{UIDs: uids(3), ResourceVersion: "9"}})
	if r.LastSyncResourceVersionUnavailable || r.LastSyncResourceVersion != "9" || !r.Watching {
		t.Fatalf("after the retry: %+v", r)
	}
	r = step(t, r, WatchEnded{})
	if r.Request != (Request{Watch: true, ResourceVersion: "9"}) || !r.Watching {
		t.Fatalf("closed watch: %+v", r.Request)
	}
	r = step(t, r, WatchEnded{Expired: true})
	if r.Watching || r.Request != (Request{ResourceVersion: "9", Limit: 0}) {
		t.Fatalf("expired watch: %+v", r.Request)
	}

	// A plain pager that paged from "0" keeps paging its relists.
	p := NewReflector(0, 1, KSMListWatch, 2)
	p = step(t, p, ObjectsListed{Page: Page{UIDs: uids(2), ResourceVersion: "4", Continue: "4/uid-001"}})
	p = step(t, p, ObjectsListed{Page: Page{Expired: true}})
	if p.Request != (Request{ResourceVersion: "0", Limit: 0}) {
		t.Fatalf("expired continue: full list %+v", p.Request)
	}
	p = step(t, p, ObjectsListed{Page: Page{UIDs: uids(3), ResourceVersion: "5"}})
	p = step(t, p, WatchEnded{Expired: true})
	if !slices.Equal(p.Store, uids(3)) || p.Request != (Request{ResourceVersion: "5", Limit: 2}) {
		t.Fatalf("relist after a full-list fallback: %+v", p.Request)
	}
}

// TestReflectorWatch: the sharded Watch passes the events of the objects
// the shard keeps; only those advance the resourceVersion.
func TestReflectorWatch(t *testing.T) {
	all := uids(40)
	r := NewReflector(0, 3, KSMListWatch, 500)
	r = step(t, r, ObjectsListed{Page: Page{UIDs: all[:20], ResourceVersion: "3"}})
	r = step(t, r, ObjectsWatched{Type: watch.Added, UIDs: all[20:], ResourceVersion: "4"})
	if !slices.Equal(r.Store, keptBy(all, 0, 3)) || r.LastSyncResourceVersion != "4" {
		t.Fatalf("after ADDED: %d objects, rv %s", len(r.Store), r.LastSyncResourceVersion)
	}
	r = step(t, r, ObjectsWatched{Type: watch.Deleted, UIDs: all[:10], ResourceVersion: "5"})
	if !slices.Equal(r.Store, keptBy(all[10:], 0, 3)) {
		t.Fatalf("after DELETED: %v", r.Store)
	}
	none := keptBy(all, 1, 3)[:1] // an object shard 0 does not keep
	r = step(t, r, ObjectsWatched{Type: watch.Deleted, UIDs: none, ResourceVersion: "6"})
	if r.LastSyncResourceVersion != "5" {
		t.Fatalf("a filtered event moved the resourceVersion to %s", r.LastSyncResourceVersion)
	}
}

// TestSplitPageIsShardedList: the one-pass split gives every shard what
// ShardedList gives it, with and without precomputed hashes.
func TestSplitPageIsShardedList(t *testing.T) {
	all := uids(300)
	p := Page{UIDs: all, ResourceVersion: "2", Continue: "2/x"}
	for _, rules := range []ListWatchRules{KSMListWatch, {}} {
		for total := 2; total <= 9; total++ {
			owners := make([]int32, len(all))
			for i, u := range all {
				owners[i] = Owner(HashUID(u), total)
			}
			for _, own := range [][]int32{nil, owners} {
				split := SplitPage(p, total, rules, own)
				for s := range total {
					want := ShardedList(p, int32(s), total, rules)
					if !slices.Equal(split[s].UIDs, want.UIDs) || split[s].Continue != want.Continue || split[s].ResourceVersion != want.ResourceVersion {
						t.Fatalf("total %d shard %d rules %+v: split differs", total, s, rules)
					}
				}
			}
		}
	}
}
