package sim

import (
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

// APIServer is the virtual API server: one namespace holding the KSM
// StatefulSet, a global resourceVersion counter (etcd's revision: every
// write bumps it) and the selector filtering of watches.
type APIServer struct {
	Namespace   string
	StatefulSet *appsv1.StatefulSet // never modified in place: writes replace it
	rv          uint64

	// ssWrites is every write of the StatefulSet, its creation first,
	// for watches that resume from a resourceVersion and for lagging
	// reads.
	ssWrites []ssWrite
	// compacted is the revision the history was compacted at (0: never):
	// a watch from an older resourceVersion, an exact read or a continue
	// token older than it gets 410 Gone.
	compacted uint64
	// lag is the watch cache's lag in writes (the cacheLag op).
	lag int
}

type ssWrite struct{ old, cur *appsv1.StatefulSet }

// NewAPIServer creates the namespace's StatefulSet.
func NewAPIServer(namespace string, ss StatefulSet) *APIServer {
	a := &APIServer{Namespace: namespace}
	replicas := int32(1) // nil: the API server defaults spec.replicas to 1
	if ss.Replicas != nil {
		replicas = *ss.Replicas
	}
	a.StatefulSet = &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: namespace, Labels: cloneLabels(ss.Labels)},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas},
	}
	a.StatefulSet.ResourceVersion = a.nextRV()
	a.ssWrites = []ssWrite{{cur: a.StatefulSet}}
	return a
}

func (a *APIServer) nextRV() string {
	a.rv++
	return strconv.FormatUint(a.rv, 10)
}

// Bump records a write to some other resource (the sharded objects): it
// advances the global resourceVersion like any etcd write.
func (a *APIServer) Bump() { a.rv++ }

// Update writes a new version of the StatefulSet built by mutate from a
// copy of the current one. An update that changes nothing is not written
// (the API server short-circuits it: no new resourceVersion, no watch
// event) and Update returns nil, nil. Otherwise it returns the old and
// new objects.
func (a *APIServer) Update(mutate func(*appsv1.StatefulSet)) (old, cur *appsv1.StatefulSet) {
	next := a.StatefulSet.DeepCopy()
	mutate(next)
	if next.Spec.Replicas == nil {
		one := int32(1) // as the API server's defaulting does
		next.Spec.Replicas = &one
	}
	if equalStatefulSet(a.StatefulSet, next) {
		return nil, nil
	}
	next.ResourceVersion = a.nextRV()
	old, a.StatefulSet = a.StatefulSet, next
	// Clip: an APIServer copied by value (the checker clones clusters)
	// must not append into the history of the copy it came from.
	a.ssWrites = append(slices.Clip(a.ssWrites), ssWrite{old, next})
	return old, next
}

// statefulSetAt returns the StatefulSet as of revision rv.
func (a *APIServer) statefulSetAt(rv uint64) *appsv1.StatefulSet {
	ss := a.ssWrites[0].cur
	for _, w := range a.ssWrites[1:] {
		if specRV(w.cur) > rv {
			break
		}
		ss = w.cur
	}
	return ss
}

// lagged returns the revision a read with resourceVersion "0" sees: the
// current one, or with a lagging watch cache the one lag writes ago.
func (a *APIServer) lagged(watchCache bool) uint64 {
	if !watchCache || a.lag == 0 {
		return a.rv
	}
	return max(a.rv-min(uint64(a.lag), a.rv), 1)
}

// watchFrom is what a watch of the StatefulSet with selector sel that
// starts from resourceVersion from sees first: the writes after from,
// through Transition; expired when from is older than the compaction
// (one ERROR event, 410 Gone, and the watch ends).
func (a *APIServer) watchFrom(sel model.Selector, from uint64) (evs []model.Watched, expired bool) {
	if from < a.compacted {
		return nil, true
	}
	for _, w := range a.ssWrites[1:] {
		rv := specRV(w.cur)
		if rv <= from {
			continue
		}
		if ev, ok := WatchEvent(sel, w.old, w.cur); ok {
			evs = append(evs, ev)
		}
	}
	return evs, false
}

func specRV(ss *appsv1.StatefulSet) uint64 { return model.ParseResourceVersion(ss.ResourceVersion) }

// List returns what a LIST with sel returns: the StatefulSets of the
// namespace that pass it.
func (a *APIServer) List(sel model.Selector) []*appsv1.StatefulSet {
	if sel.Matches(a.StatefulSet) {
		return []*appsv1.StatefulSet{a.StatefulSet}
	}
	return nil
}

// listAt is a LIST with sel answered as of revision rv.
func (a *APIServer) listAt(sel model.Selector, rv uint64) []*appsv1.StatefulSet {
	if ss := a.statefulSetAt(rv); sel.Matches(ss) {
		return []*appsv1.StatefulSet{ss}
	}
	return nil
}

// WatchEvent is what a watch with selector sel sees of the update old ->
// cur: Transition with the resourceVersion of cur.
func WatchEvent(sel model.Selector, old, cur *appsv1.StatefulSet) (ev model.Watched, ok bool) {
	return Transition(sel, old, cur, cur.ResourceVersion)
}

// Transition is the one copy of the cacher's transition rules (k8s.io/apiserver
// pkg/storage/cacher, cacheWatcher.convertToWatchEvent; the etcd3 watcher
// does the same) for a write old -> cur at resourceVersion rv, seen through
// sel. old is nil for a creation, cur nil for a deletion. Old and new match
// -> MODIFIED; only the new matches -> ADDED; only the old matches ->
// DELETED carrying the old object, stamped with the write's resourceVersion
// (kubernetes/kubernetes#58547); neither -> nothing (ok is false). Every
// API server of the project calls it: this one, the client-go backend's
// watch reactor and the ksm backend's HTTP server.
func Transition(sel model.Selector, old, cur *appsv1.StatefulSet, rv string) (ev model.Watched, ok bool) {
	oldPasses := old != nil && sel.Matches(old)
	curPasses := cur != nil && sel.Matches(cur)
	switch {
	case oldPasses && curPasses:
		return model.Watched{Type: watch.Modified, Object: cur}, true
	case curPasses:
		return model.Watched{Type: watch.Added, Object: cur}, true
	case oldPasses:
		gone := old.DeepCopy()
		gone.ResourceVersion = rv
		return model.Watched{Type: watch.Deleted, Object: gone}, true
	}
	return model.Watched{}, false
}

func equalStatefulSet(a, b *appsv1.StatefulSet) bool {
	if len(a.Labels) != len(b.Labels) {
		return false
	}
	for k, v := range a.Labels {
		if w, ok := b.Labels[k]; !ok || w != v {
			return false
		}
	}
	return specReplicas(a) == specReplicas(b)
}

// specReplicas is spec.replicas, nil read as 1 (the API server's default).
func specReplicas(ss *appsv1.StatefulSet) int32 {
	if ss.Spec.Replicas == nil {
		return 1
	}
	return *ss.Spec.Replicas
}

func cloneLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// A ListRead is how the API server reads one LIST of the objects: the
// objects at revision Rev whose key sorts after After, at most Limit of
// them (0: all), with a continue token pinned to Rev when more remain. Or
// Expired: the LIST fails with 410 Gone (reason Expired).
type ListRead struct {
	Rev     uint64
	After   string
	Limit   int
	Expired bool
}

// A ListQuery is a LIST request as PlanList reads it: its resourceVersion
// and limit, or the revision and last key its continue token encodes
// (Continue set).
type ListQuery struct {
	ResourceVersion string
	Limit           int
	Continue        bool
	ContinueRev     uint64
	ContinueAfter   string
}

// PlanList is the one copy of the kube-apiserver's LIST rules for the
// objects (v1.37, etcd3 store and watch cache; observed, see DESIGN.md).
// current is the current revision, compacted the last compaction (0:
// none), cacheRev the revision the watch cache is at (current, or behind
// under cacheLag). Any limit pages by cfg.PageSize: the trace's page size
// stands for the pager's 500. The simulator and the ksm backend's HTTP
// server both call it.
//  1. A continue token: the next page at the token's revision; 410 once
//     that revision is compacted (etcd3 GetList, storage continue).
//  2. resourceVersion "0" with the watch cache: whole (the cache drops the
//     limit), at the cache's revision.
//  3. "" (a consistent read), or "0" without the watch cache: paged by the
//     limit at the current revision.
//  4. "N" with a limit: an exact read at N, paged, 410 once N is
//     compacted; without a limit: whole, at the current revision (not
//     older than N).
func PlanList(q ListQuery, cfg APIServerConfig, current, compacted, cacheRev uint64) ListRead {
	pageSize := 0
	if q.Limit > 0 {
		pageSize = cfg.PageSize
	}
	switch {
	case q.Continue:
		if q.ContinueRev < compacted {
			return ListRead{Expired: true}
		}
		return ListRead{Rev: q.ContinueRev, After: q.ContinueAfter, Limit: pageSize}
	case q.ResourceVersion == "0" && cfg.WatchCache:
		return ListRead{Rev: cacheRev}
	case q.ResourceVersion == "" || q.ResourceVersion == "0":
		return ListRead{Rev: current, Limit: pageSize}
	case pageSize == 0:
		return ListRead{Rev: current}
	}
	n := model.ParseResourceVersion(q.ResourceVersion)
	if n < compacted {
		return ListRead{Expired: true}
	}
	return ListRead{Rev: n, Limit: pageSize}
}
