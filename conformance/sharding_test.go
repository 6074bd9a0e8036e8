package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kube-state-metrics/v2/pkg/sharding"

	"github.com/shardsim/shardsim/model"
)

const (
	numUUIDs  = 10000 // UUID-shaped UIDs in the List test
	maxTotal  = 16    // totals 1..maxTotal are checked
	numWatch  = 1000  // objects sent through the Watch path
	listRV    = "4242"
	uidPrefix = "shardsim-conformance"
)

// oddUIDs are UIDs that are not UUIDs; KSM hashes whatever string is there.
var oddUIDs = []string{
	"",
	"x",
	"not-a-uuid",
	"00000000-0000-0000-0000-000000000000",
	"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
	"ünïcödé-üid",
	"a very long uid with spaces and punctuation: !@#$%^&*()_+ 0123456789 abcdefghijklmnopqrstuvwxyz",
}

// uuidFor deterministically derives a UUID-shaped UID (8-4-4-4-12 lowercase
// hex, version 4 / RFC 4122 variant bits set) from a counter via sha256.
func uuidFor(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", uidPrefix, i))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// testUIDs returns n UUID-shaped UIDs followed by the odd ones.
func testUIDs(n int) []string {
	uids := make([]string, 0, n+len(oddUIDs))
	for i := range n {
		uids = append(uids, uuidFor(i))
	}
	return append(uids, oddUIDs...)
}

func configMap(i int, uid string) *v1.ConfigMap {
	return &v1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("cm-%d", i),
			Namespace: "default",
			UID:       types.UID(uid),
		},
	}
}

// expected returns the UIDs shardsim's model says shard keeps out of total.
func expected(uids []string, shard int32, total int) []string {
	var out []string
	for _, uid := range uids {
		if model.Keeps(uid, shard, total) {
			out = append(out, uid)
		}
	}
	return out
}

// listedUIDs calls List on lw and returns the UIDs of the items, in order.
func listedUIDs(t *testing.T, lw cache.ListerWatcher) []string {
	t.Helper()
	obj, err := lw.List(metav1.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	lm, err := meta.ListAccessor(obj)
	if err != nil {
		t.Fatalf("ListAccessor: %v", err)
	}
	if rv := lm.GetResourceVersion(); rv != listRV {
		t.Fatalf("list resourceVersion = %q, want %q", rv, listRV)
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		t.Fatalf("ExtractList: %v", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		a, err := meta.Accessor(it)
		if err != nil {
			t.Fatalf("Accessor: %v", err)
		}
		out = append(out, string(a.GetUID()))
	}
	return out
}

// diff describes up to a few differences between got and want.
func diff(got, want []string) string {
	g := make(map[string]bool, len(got))
	for _, u := range got {
		g[u] = true
	}
	w := make(map[string]bool, len(want))
	for _, u := range want {
		w[u] = true
	}
	var extra, missing []string
	for _, u := range got {
		if !w[u] {
			extra = append(extra, fmt.Sprintf("%q", u))
		}
	}
	for _, u := range want {
		if !g[u] {
			missing = append(missing, fmt.Sprintf("%q", u))
		}
	}
	return fmt.Sprintf("kept by KSM but not model (%d): %v; kept by model but not KSM (%d): %v",
		len(extra), head(extra), len(missing), head(missing))
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func TestUUIDForShape(t *testing.T) {
	u := uuidFor(0)
	if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' || u[14] != '4' {
		t.Fatalf("uuidFor(0) = %q is not UUID-shaped", u)
	}
	if u != uuidFor(0) || u == uuidFor(1) {
		t.Fatal("uuidFor is not deterministic and distinct")
	}
}

// TestListMatchesKSM compares KSM's sharded List with model.Keeps for every
// total in 1..maxTotal and every shard in 0..total+1.
func TestListMatchesKSM(t *testing.T) {
	uids := testUIDs(numUUIDs)
	list := &v1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: listRV}}
	seen := make(map[string]bool, len(uids))
	for i, uid := range uids {
		if seen[uid] {
			t.Fatalf("duplicate test UID %q", uid)
		}
		seen[uid] = true
		list.Items = append(list.Items, *configMap(i, uid))
	}
	var lists int
	base := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) {
			lists++
			return list.DeepCopy(), nil
		},
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) {
			return nil, fmt.Errorf("watch not used in this test")
		},
	}

	check := func(t *testing.T, shard int32, total int) []string {
		t.Helper()
		got := listedUIDs(t, sharding.NewShardedListWatch(shard, total, base))
		want := expected(uids, shard, total)
		if !slices.Equal(got, want) {
			t.Fatalf("shard %d of %d: KSM kept %d, model keeps %d; %s",
				shard, total, len(got), len(want), diff(got, want))
		}
		return got
	}

	for total := 1; total <= maxTotal; total++ {
		sum := 0
		for shard := int32(0); shard <= int32(total)+1; shard++ {
			got := check(t, shard, total)
			switch {
			case int(shard) >= total && len(got) != 0:
				t.Fatalf("shard %d >= total %d kept %d objects, want 0", shard, total, len(got))
			case int(shard) < total && len(got) == 0:
				t.Fatalf("shard %d of %d kept nothing out of %d objects", shard, total, len(uids))
			}
			sum += len(got)
		}
		// The shards of one total partition the objects.
		if sum != len(uids) {
			t.Fatalf("total %d: shards kept %d objects in all, want %d", total, sum, len(uids))
		}
	}

	// totalShards 0 keeps nothing.
	if got := check(t, 0, 0); len(got) != 0 {
		t.Fatalf("shard 0 of 0 kept %d objects, want 0", len(got))
	}

	if want := maxTotal*(maxTotal+5)/2 + 1; lists != want {
		t.Fatalf("base List called %d times, want %d", lists, want)
	}
}

// TestWatchMatchesKSM feeds numWatch events through KSM's sharded Watch and
// compares the filtered stream with model.Keeps.
func TestWatchMatchesKSM(t *testing.T) {
	uids := testUIDs(numWatch)
	eventTypes := []watch.EventType{watch.Added, watch.Modified, watch.Deleted}
	pairs := []struct {
		shard int32
		total int
	}{{0, 2}, {1, 2}, {2, 3}, {4, 7}, {15, 16}, {3, 3}}

	for _, p := range pairs {
		t.Run(fmt.Sprintf("shard%d_of_%d", p.shard, p.total), func(t *testing.T) {
			// A buffered fake holds every event, so all sends complete
			// before the filtered watch is read and nothing blocks.
			src := watch.NewFakeWithChanSize(len(uids), false)
			base := &cache.ListWatch{
				ListFunc: func(metav1.ListOptions) (runtime.Object, error) {
					return nil, fmt.Errorf("list not used in this test")
				},
				WatchFunc: func(metav1.ListOptions) (watch.Interface, error) {
					return src, nil
				},
			}
			for i, uid := range uids {
				src.Action(eventTypes[i%len(eventTypes)], configMap(i, uid))
			}
			// Stop closes the source channel; the Filter watcher drains the
			// buffered events and then closes its own result channel.
			src.Stop()

			w, err := sharding.NewShardedListWatch(p.shard, p.total, base).Watch(metav1.ListOptions{})
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			defer w.Stop()

			var got []string
			for ev := range w.ResultChan() {
				a, err := meta.Accessor(ev.Object)
				if err != nil {
					t.Fatalf("Accessor: %v", err)
				}
				got = append(got, string(a.GetUID()))
			}
			want := expected(uids, p.shard, p.total)
			if int(p.shard) < p.total && len(want) == 0 {
				t.Fatalf("model keeps nothing for shard %d of %d; test is vacuous", p.shard, p.total)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("KSM streamed %d, model keeps %d; %s", len(got), len(want), diff(got, want))
			}
		})
	}
}

// TestListPageMatchesKSM: for a page that has a continue token, KSM's
// sharded List returns what model.ShardedList with KSMListWatch returns:
// the kept items, the resourceVersion, and no continue token (shard 0 of
// 1, the plain ListWatch, keeps it). This is the cut behind #3065.
func TestListPageMatchesKSM(t *testing.T) {
	uids := testUIDs(200)[:200]
	page := &v1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: listRV, Continue: "opaque-token"}}
	for i, u := range uids {
		page.Items = append(page.Items, *configMap(i, u))
	}
	base := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) { return page.DeepCopy(), nil },
	}
	for total := 1; total <= 4; total++ {
		for shard := range int32(total) {
			got, err := sharding.NewShardedListWatch(shard, total, base).List(metav1.ListOptions{Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			lm, err := meta.ListAccessor(got)
			if err != nil {
				t.Fatal(err)
			}
			var gotUIDs []string
			if err := meta.EachListItem(got, func(o runtime.Object) error {
				a, err := meta.Accessor(o)
				gotUIDs = append(gotUIDs, string(a.GetUID()))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			want := model.ShardedList(model.Page{UIDs: uids, ResourceVersion: listRV, Continue: "opaque-token"}, shard, total, model.KSMListWatch)
			if !slices.Equal(gotUIDs, want.UIDs) || lm.GetContinue() != want.Continue || lm.GetResourceVersion() != want.ResourceVersion {
				t.Errorf("shard %d of %d: KSM continue %q rv %s, %d items; model continue %q rv %s, %d items",
					shard, total, lm.GetContinue(), lm.GetResourceVersion(), len(gotUIDs), want.Continue, want.ResourceVersion, len(want.UIDs))
			}
		}
	}
}
