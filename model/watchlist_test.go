package model_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

func release(t *testing.T, v string) model.ListWatchRules {
	t.Helper()
	r, ok := model.ReleaseByVersion(v)
	if !ok {
		t.Fatalf("no release %s", v)
	}
	return r.Rules
}

// bookmarkShard is the shard of total that owns the empty UID: the only
// one a bookmark filtered by UID reaches.
func bookmarkShard(total int) int32 {
	for s := range int32(total) {
		if model.Keeps("", s, total) {
			return s
		}
	}
	return -1
}

func TestWatchListRefusedFallsBackToList(t *testing.T) {
	r := model.NewReflector(0, 2, release(t, "v2.19.1"), 500)
	if want := (model.Request{Watch: true, SendInitialEvents: true}); r.Request != want {
		t.Fatalf("first request %s, want %s", r.Request, want)
	}
	r, _ = model.StepReflector(r, model.ObjectsStreamed{Refused: true})
	if want := (model.Request{ResourceVersion: "0", Limit: 500}); r.Watching || r.Request != want {
		t.Fatalf("after a refused watch list: %s (watching %v), want %s", r.Request, r.Watching, want)
	}
	// Without WatchList the first request is that LIST.
	if got := model.NewReflector(0, 2, release(t, "v2.18.0"), 500).Request; got != (model.Request{ResourceVersion: "0", Limit: 500}) {
		t.Errorf("v2.18.0's first request %s, want a LIST from resourceVersion 0", got)
	}
}

func TestWatchListBookmark(t *testing.T) {
	uids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	page := model.Page{UIDs: uids, ResourceVersion: "7", Whole: true}
	const total = 3
	owner := bookmarkShard(total)
	for _, tc := range []struct {
		release string
		shard   int32
		synced  bool
	}{
		{"v2.19.0", owner, true},
		{"v2.19.0", (owner + 1) % total, false}, // #2973
		{"v2.19.1", (owner + 1) % total, true},
		{"v2.20.0", (owner + 2) % total, true},
	} {
		r := model.NewReflector(tc.shard, total, release(t, tc.release), 500)
		r, note := model.StepReflector(r, model.ObjectsStreamed{Page: page})
		if r.Synced != tc.synced || r.WaitingForBookmark == tc.synced || !r.Watching {
			t.Errorf("%s shard %d of %d: synced %v, waiting %v, watching %v, want synced %v (%s)", tc.release, tc.shard, total, r.Synced, r.WaitingForBookmark, r.Watching, tc.synced, note)
			continue
		}
		if want := (model.Request{Watch: true, ResourceVersion: "7"}); r.Request != want {
			t.Errorf("%s shard %d: request %s, want the watch to go on from 7: %s", tc.release, tc.shard, r.Request, want)
		}
		if !tc.synced {
			// Later events go to the temporary store; the store stays empty.
			r2, _ := model.StepReflector(r, model.ObjectsWatched{Type: watch.Added, UIDs: uids, ResourceVersion: "8"})
			if r2.Synced || len(r2.Store) != 0 || r2.Whole {
				t.Errorf("%s shard %d: a watch event without the bookmark changed the store: %+v", tc.release, tc.shard, r2)
			}
			// The stream ends: the reflector asks for a watch list again.
			r3, _ := model.StepReflector(r2, model.WatchEnded{})
			if want := (model.Request{Watch: true, SendInitialEvents: true}); r3.Request != want || r3.Watching {
				t.Errorf("%s shard %d: after the stream ended: %s, want %s", tc.release, tc.shard, r3.Request, want)
			}
			continue
		}
		if !r.Whole || r.StoreAt != "7" || r.LastSyncResourceVersion != "7" {
			t.Errorf("%s shard %d: store %+v, want what the shard keeps at 7", tc.release, tc.shard, r)
		}
		// A 410 on the watch starts ListAndWatch again: a watch list
		// from the last synced resourceVersion.
		r4, _ := model.StepReflector(r, model.WatchEnded{Expired: true})
		if want := (model.Request{Watch: true, SendInitialEvents: true, ResourceVersion: "7"}); r4.Request != want {
			t.Errorf("%s shard %d: after a 410: %s, want %s", tc.release, tc.shard, r4.Request, want)
		}
	}
	// The plain ListWatch (shard 0 of 1) passes every bookmark.
	r := model.NewReflector(0, 1, release(t, "v2.19.0"), 500)
	if r, _ = model.StepReflector(r, model.ObjectsStreamed{Page: page}); !r.Synced {
		t.Errorf("shard 0 of 1 on v2.19.0 did not sync")
	}
}
