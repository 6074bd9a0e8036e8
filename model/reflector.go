package model

import (
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/watch"
)

// This file is KSM's data plane for one resource (the sharded objects,
// ConfigMaps): the client-go reflector that fills a store over KSM's
// sharded ListWatch. MetricsHandler.ConfigureSharding (pkg/metricshandler)
// cancels the old stores and builds new, empty ones with
// storeBuilder.WithSharding(shard, total) and Build(); each is filled by a
// reflector (resync period 0) over sharding.NewShardedListWatch(shard,
// total, lw). What a pod exports (/metrics) is what its stores hold.
//
// The reflector is client-go's tools/cache Reflector: LIST, then WATCH, as
// KSM v2.12.0 (client-go v0.29.3) and v2.13.0 (v0.30.3) run it; with
// ListWatchRules.WatchList (client-go v0.35 and later, KSM v2.19.0 and
// later) a watch list first, LIST only when the server refuses it.

// DefaultPageSize is the client-go pager's page size (tools/pager,
// defaultPageSize), which the reflector asks for unless it turns paging
// off.
const DefaultPageSize = 500

// ListWatchRules are the release-specific rules of KSM's sharded
// ListWatch (pkg/sharding/listwatch.go) and of the client-go reflector
// over it (Changes says which release has which).
type ListWatchRules struct {
	// DropsContinue: the sharded List copies only ResourceVersion into
	// its result, dropping Continue (and RemainingItemCount), so a paged
	// list stops after its first page. True until v2.20.0 (#3065, commit
	// 5fe2a148).
	DropsContinue bool
	// FiltersBookmarks: the sharded Watch filters BOOKMARK events by UID
	// like objects; a bookmark's UID is empty, so only the shard that
	// owns "" gets them. True until v2.19.1.
	FiltersBookmarks bool
	// WatchList: the reflector asks for a watch list first
	// (sendInitialEvents=true) and is synced by its
	// k8s.io/initial-events-end bookmark; it lists only when the server
	// refuses. client-go v0.35 and later (WatchListClient on by
	// default): KSM v2.19.0 and later.
	WatchList bool
}

// KSMListWatch is the sharded ListWatch of the releases the named reducers
// model (v2.12.0 and v2.13.0), and of every release to v2.18.0.
var KSMListWatch = ListWatchRules{DropsContinue: true, FiltersBookmarks: true}

// A Page is one answer of the API server to a LIST of the objects: the
// UIDs of one page in key order (objects are named by their UID), the
// list's resourceVersion and its continue token; or a 410 Gone.
type Page struct {
	UIDs            []string
	ResourceVersion string
	Continue        string
	// Expired: the request failed with 410 Gone (reason Expired): a
	// continue token or an exact resourceVersion older than the
	// compaction.
	Expired bool
	// Whole: the page is the whole list, every object live at
	// ResourceVersion (an unpaged answer, or a first page with no
	// continue token). A reflector that lists it keeps its store as
	// Reflector.Whole says, without filtering the items.
	Whole bool
}

// ShardedList is what KSM's sharded List returns for the server's page p:
// the items shard of total keeps, the resourceVersion, and the continue
// token unless the rules drop it. Shard 0 of 1 is the plain ListWatch
// (NewShardedListWatch's "no sharding" shortcut): p unchanged.
func ShardedList(p Page, shard int32, total int, rules ListWatchRules) Page {
	if p.Expired || (shard == 0 && total == 1) {
		return p
	}
	out := Page{ResourceVersion: p.ResourceVersion}
	if !rules.DropsContinue {
		out.Continue = p.Continue
	}
	if shard >= 0 && int(shard) >= max(total, 0) {
		// Owner is in [0, total) (-1 for total <= 0): such a shard (a
		// pod above a scale-down, not yet deleted) keeps nothing, and
		// hashing every item would say so slowly.
		return out
	}
	for _, u := range p.UIDs {
		if Keeps(u, shard, total) {
			out.UIDs = append(out.UIDs, u)
		}
	}
	return out
}

// SplitPage is ShardedList for every shard of total at once, in one pass
// over the page: out[i] is ShardedList(p, i, total, rules) (total >= 2).
// owners, when not nil, holds Owner(HashUID(u), total) of each of p.UIDs
// (a caller that keeps them spares the hashing).
func SplitPage(p Page, total int, rules ListWatchRules, owners []int32) []Page {
	if owners == nil {
		owners = make([]int32, len(p.UIDs))
		for i, u := range p.UIDs {
			owners[i] = Owner(HashUID(u), total)
		}
	}
	// A counting sort into one array: count each shard's items, then
	// place them, keeping the page's order within each shard.
	start := make([]int, total+1)
	for _, o := range owners {
		start[o+1]++
	}
	for i := range total {
		start[i+1] += start[i]
	}
	all := make([]string, len(p.UIDs))
	next := slices.Clone(start[:total])
	for i, u := range p.UIDs {
		o := owners[i]
		all[next[o]] = u
		next[o]++
	}
	out := make([]Page, total)
	for i := range out {
		out[i].UIDs = all[start[i]:start[i+1]:start[i+1]]
		out[i].ResourceVersion = p.ResourceVersion
		if !rules.DropsContinue {
			out[i].Continue = p.Continue
		}
	}
	return out
}

// A Request is what a reflector asks the API server next.
type Request struct {
	Watch bool
	// SendInitialEvents: the watch is a watch list (sendInitialEvents=true,
	// resourceVersionMatch=NotOlderThan).
	SendInitialEvents bool
	ResourceVersion   string
	Limit             int // LIST only; 0: unpaged
	Continue          string
}

func (r Request) String() string {
	if r.SendInitialEvents {
		return fmt.Sprintf("WATCH LIST (sendInitialEvents) from resourceVersion %q", r.ResourceVersion)
	}
	if r.Watch {
		return "WATCH from resourceVersion " + r.ResourceVersion
	}
	s := fmt.Sprintf("LIST resourceVersion=%q limit=%d", r.ResourceVersion, r.Limit)
	if r.Continue != "" {
		s += " continue"
	}
	return s
}

// Reflector is one store of a pod and the client-go reflector filling it
// over the sharded ListWatch of (Shard, Total). It is a value; Store is
// shared between states and never modified in place.
type Reflector struct {
	Shard int32
	Total int
	Rules ListWatchRules
	// PageSize is the pager's page size (DefaultPageSize).
	PageSize int

	// Watching: a watch is open (or opening); otherwise a LIST page or a
	// watch list (Request.SendInitialEvents) is in flight.
	Watching bool
	// WaitingForBookmark: a watch list's initial events came but not its
	// k8s.io/initial-events-end bookmark (the sharded Watch filtered it):
	// the watch stays open, its events go to the watch list's temporary
	// store, and the store is never replaced.
	WaitingForBookmark bool
	// Request is the request in flight: the next page to answer, or the
	// watch to open.
	Request Request

	// LastSyncResourceVersion, LastSyncResourceVersionUnavailable and
	// PaginatedResult are the reflector's fields of the same names.
	LastSyncResourceVersion            string
	LastSyncResourceVersionUnavailable bool
	PaginatedResult                    bool

	// The pager's state within one list (tools/pager ListPager.list):
	// the options of the list call, whether that call is the retry after
	// a 410, and the pages gathered so far with their resourceVersion.
	listRV    string
	pageLimit int
	retried   bool
	gathered  []string
	gatheredV string
	paged     bool

	// Store holds the UIDs the store holds, sorted; unless Whole.
	Store []string
	// Whole: the store holds every object live at resourceVersion
	// StoreAt that the shard keeps, and Store is nil. It comes from a
	// whole list and stays so through the watch, whose every event is a
	// complete write (each moves StoreAt to its resourceVersion). The
	// caller, which knows the objects at each resourceVersion, lists or
	// counts them; the reflector need not filter every object.
	Whole   bool
	StoreAt string
	// Synced: a list has completed (the informer's HasSynced).
	Synced bool
	// Truncated: the store's list stopped at a page whose continue token
	// the sharded List dropped: objects after that page were never read.
	Truncated bool
}

// NewReflector is the store ConfigureSharding builds for (shard, total):
// empty, its reflector starting ListAndWatch: its first LIST with
// resourceVersion "0" (relistResourceVersion with no
// lastSyncResourceVersion), or with rules.WatchList a watch list from
// resourceVersion "".
func NewReflector(shard int32, total int, rules ListWatchRules, pageSize int) Reflector {
	r := Reflector{Shard: shard, Total: total, Rules: rules, PageSize: pageSize}
	return r.listAndWatch()
}

// listAndWatch starts Reflector.ListAndWatch: a watch list when the
// reflector uses them, a LIST otherwise.
func (r Reflector) listAndWatch() Reflector {
	if r.Rules.WatchList {
		return r.startWatchList()
	}
	return r.startList()
}

// startWatchList begins Reflector.watchList: a watch with
// sendInitialEvents from rewatchResourceVersion ("" after a 410, the last
// synced resourceVersion otherwise).
func (r Reflector) startWatchList() Reflector {
	rv := r.LastSyncResourceVersion
	if r.LastSyncResourceVersionUnavailable {
		rv = ""
	}
	r.Watching, r.WaitingForBookmark = false, false
	r.gathered, r.gatheredV, r.paged = nil, "", false
	r.Request = Request{Watch: true, SendInitialEvents: true, ResourceVersion: rv}
	return r
}

// keepsBookmark reports whether the sharded Watch passes a BOOKMARK to
// the reflector: always for the plain ListWatch (shard 0 of 1) and from
// v2.19.1; before, only to the shard that owns the empty UID.
func (r Reflector) keepsBookmark() bool {
	return (r.Shard == 0 && r.Total == 1) || !r.Rules.FiltersBookmarks || Keeps("", r.Shard, r.Total)
}

// relistResourceVersion is client-go's: "" after a 410, "0" before the
// first sync, the last synced resourceVersion otherwise.
func (r Reflector) relistResourceVersion() string {
	switch {
	case r.LastSyncResourceVersionUnavailable:
		return ""
	case r.LastSyncResourceVersion == "":
		return "0"
	}
	return r.LastSyncResourceVersion
}

// startList begins Reflector.list: the pager's page size is the default,
// kept when an earlier list from "0" was paginated, and 0 (no paging, so
// the watch cache can answer) for a list from a specific resourceVersion.
func (r Reflector) startList() Reflector {
	r.listRV = r.relistResourceVersion()
	r.pageLimit = r.PageSize
	if !r.PaginatedResult && r.listRV != "" && r.listRV != "0" {
		r.pageLimit = 0
	}
	r.retried = false
	return r.firstPage()
}

func (r Reflector) firstPage() Reflector {
	r.Watching = false
	r.gathered, r.gatheredV, r.paged = nil, "", false
	r.Request = Request{ResourceVersion: r.listRV, Limit: r.pageLimit}
	return r
}

// ObjectsListed is the answer to the reflector's LIST request: the
// server's page, before KSM's sharded List filters it. Kept, when not
// nil, is ShardedList of that page for the reflector's shard, computed by
// the caller (SplitPage for many pods at once).
type ObjectsListed struct {
	Page Page
	Kept *Page
}

// ObjectsWatched is one write of the objects as the reflector's watch
// sends it, before KSM's sharded Watch filters it: ADDED or DELETED
// objects, all at ResourceVersion.
type ObjectsWatched struct {
	Type            watch.EventType
	UIDs            []string
	ResourceVersion string
}

// WatchEnded is the end of the reflector's watch: the connection closed
// (Expired false), or an ERROR event with 410 Gone ended it.
type WatchEnded struct{ Expired bool }

// ObjectsStreamed is the answer to the reflector's watch list: refused
// (422, the server's WatchList feature gate is off), or an ADDED event for
// each object of Page (the whole list at its resourceVersion), then the
// k8s.io/initial-events-end bookmark at that resourceVersion, before KSM's
// sharded Watch filters them. The stream then goes on as a watch from
// there.
type ObjectsStreamed struct {
	Refused bool
	Page    Page
}

func (ObjectsListed) isEvent()   {}
func (ObjectsWatched) isEvent()  {}
func (WatchEnded) isEvent()      {}
func (ObjectsStreamed) isEvent() {}

// StepReflector folds one answer into the reflector and returns its new
// state and a one-line account. The new state's Request says what it
// asks next.
func StepReflector(r Reflector, e Event) (Reflector, string) {
	switch e := e.(type) {
	case ObjectsListed:
		if r.Watching || r.Request.SendInitialEvents {
			return r, "ignored: no LIST in flight"
		}
		if e.Page.Whole && !e.Page.Expired && r.Request.Continue == "" {
			return r.listedWhole(e.Page)
		}
		var kept Page
		if e.Kept != nil {
			kept = *e.Kept
		} else {
			kept = ShardedList(e.Page, r.Shard, r.Total, r.Rules)
		}
		return r.listed(e.Page, kept)
	case ObjectsWatched:
		if !r.Watching {
			return r, "ignored: not watching"
		}
		return r.watched(e)
	case ObjectsStreamed:
		if r.Watching || !r.Request.SendInitialEvents {
			return r, "ignored: no watch list in flight"
		}
		if e.Refused {
			// ListAndWatch: a watch list that fails falls back to LIST
			// ("making progress is better than deadlocking").
			r = r.startList()
			return r, "watch list refused (422: the WatchList feature gate is off): fall back to " + r.Request.String()
		}
		return r.streamed(e.Page)
	case WatchEnded:
		if !r.Watching {
			return r, "ignored: not watching"
		}
		if r.WaitingForBookmark {
			// Reflector.watchList: a stream that ends without its
			// bookmark is opened again; on 410 Gone from
			// resourceVersion "" (rewatchResourceVersion).
			if e.Expired {
				r.LastSyncResourceVersionUnavailable = true
			}
			r = r.startWatchList()
			return r, "watch list ended before its bookmark: again, " + r.Request.String()
		}
		if e.Expired {
			// Reflector.watch: an expired watch ends ListAndWatch
			// without marking the resourceVersion unavailable ("LIST
			// with RV=RV already returns data at least as fresh"), and
			// BackoffUntil runs ListAndWatch again: a relist (a watch
			// list first where the reflector uses them).
			r = r.listAndWatch()
			if r.Rules.WatchList {
				return r, "watch ended with 410 Gone: ListAndWatch again, " + r.Request.String()
			}
			return r, "watch ended with 410 Gone: relist, " + r.Request.String()
		}
		// A closed watch is re-opened from the last synced
		// resourceVersion (Reflector.watch's loop).
		r.Request = Request{Watch: true, ResourceVersion: r.LastSyncResourceVersion}
		return r, "watch closed: re-" + r.Request.String()
	}
	return r, fmt.Sprintf("ignored: unknown event %T", e)
}

// listed is one turn of the pager's loop (tools/pager ListPager.list)
// inside Reflector.list.
func (r Reflector) listed(p, kept Page) (Reflector, string) {
	if p.Expired {
		if r.Request.Continue != "" {
			// The pager's FullListIfExpired: a continue token that
			// expired falls back to a full list at the requested
			// resourceVersion, whose answer is the list (the pages
			// gathered so far are dropped).
			r.gathered, r.gatheredV = nil, ""
			r.Request = Request{ResourceVersion: r.listRV}
			return r, "page 410 Gone (continue expired): full " + r.Request.String()
		}
		// Reflector.list: on a 410 the resourceVersion is unavailable;
		// retry at once with relistResourceVersion, "". A second 410
		// fails the list and BackoffUntil starts ListAndWatch again.
		r.LastSyncResourceVersionUnavailable = true
		r.listRV = r.relistResourceVersion()
		if r.retried {
			r.retried = false
			if r.Rules.WatchList {
				r = r.startWatchList()
			} else {
				r = r.firstPage()
			}
			return r, "LIST 410 Gone again: list failed, ListAndWatch restarts: " + r.Request.String()
		}
		r.retried = true
		r = r.firstPage()
		return r, "LIST 410 Gone: retry " + r.Request.String()
	}
	dropped := p.Continue != "" && kept.Continue == ""
	// A page that continues, or that answers a continue token, is part
	// of a paged list; otherwise the answer is the whole list.
	if kept.Continue != "" || r.Request.Continue != "" {
		if r.gathered == nil {
			r.gatheredV = kept.ResourceVersion
			r.gathered = []string{}
		}
		r.gathered = append(r.gathered, kept.UIDs...)
		if kept.Continue != "" {
			// The next page: the continue token, no resourceVersion.
			r.paged = true
			r.Request = Request{Limit: r.pageLimit, Continue: kept.Continue}
			return r, fmt.Sprintf("page of %d kept %d; next page", len(p.UIDs), len(kept.UIDs))
		}
		kept.UIDs, kept.ResourceVersion = r.gathered, r.gatheredV
	}
	if r.listRV == "0" && r.paged {
		r.PaginatedResult = true
	}
	r.LastSyncResourceVersionUnavailable = false
	// syncWith: the store is replaced by the list. Pages come in key
	// order (objects are named by their UID), and a Store is never
	// written in place, so the list's slice is the store (clipped:
	// nothing may append into it).
	r.Store = slices.Clip(kept.UIDs)
	r.Whole, r.StoreAt = false, ""
	r.Synced, r.Truncated = true, dropped
	r.LastSyncResourceVersion = kept.ResourceVersion
	r.gathered, r.gatheredV = nil, ""
	r.Watching = true
	r.Request = Request{Watch: true, ResourceVersion: r.LastSyncResourceVersion}
	note := fmt.Sprintf("listed %d, kept %d at resourceVersion %s; store replaced", len(p.UIDs), len(r.Store), kept.ResourceVersion)
	if dropped {
		note += "; the sharded List dropped the continue token: later pages never read"
	}
	return r, note
}

// listedWhole is listed for a whole list (one page, no continue token):
// the sharded List keeps what the shard owns of every object at the
// page's resourceVersion, which is what a Whole store says.
func (r Reflector) listedWhole(p Page) (Reflector, string) {
	if r.listRV == "0" && r.paged {
		r.PaginatedResult = true
	}
	r.LastSyncResourceVersionUnavailable = false
	r.Store, r.Whole, r.StoreAt = nil, true, p.ResourceVersion
	r.Synced, r.Truncated = true, false
	r.LastSyncResourceVersion = p.ResourceVersion
	r.gathered, r.gatheredV = nil, ""
	r.Watching = true
	r.Request = Request{Watch: true, ResourceVersion: r.LastSyncResourceVersion}
	return r, fmt.Sprintf("listed %d (the whole list) at resourceVersion %s; store replaced: what shard %d of %d keeps of them", len(p.UIDs), p.ResourceVersion, r.Shard, r.Total)
}

// streamed is a watch list's answer through the sharded Watch: the ADDED
// events of the objects the shard keeps go to a temporary store, and the
// bookmark, if the sharded Watch passes it, replaces the store with them
// (Reflector.watchList); the watch goes on from its resourceVersion.
// Without the bookmark the reflector waits for it, its store unchanged.
func (r Reflector) streamed(p Page) (Reflector, string) {
	r.Watching = true
	r.Request = Request{Watch: true, ResourceVersion: p.ResourceVersion}
	if !r.keepsBookmark() {
		r.WaitingForBookmark = true
		return r, fmt.Sprintf("watch list: %d initial events at resourceVersion %s, then the initial-events-end bookmark, which the sharded Watch filters out (its empty UID is not shard %d's of %d): the store is never replaced, the reflector waits",
			len(p.UIDs), p.ResourceVersion, r.Shard, r.Total)
	}
	r.LastSyncResourceVersionUnavailable = false
	if p.Whole {
		r.Store, r.Whole, r.StoreAt = nil, true, p.ResourceVersion
	} else {
		r.Store, r.Whole, r.StoreAt = ShardedList(Page{UIDs: p.UIDs}, r.Shard, r.Total, r.Rules).UIDs, false, ""
	}
	r.Synced, r.Truncated = true, false
	r.LastSyncResourceVersion = p.ResourceVersion
	return r, fmt.Sprintf("watch list: %d initial events at resourceVersion %s and the initial-events-end bookmark; store replaced: what shard %d of %d keeps of them; the watch goes on",
		len(p.UIDs), p.ResourceVersion, r.Shard, r.Total)
}

// watched applies one write through the sharded Watch, which passes the
// events of the objects the shard keeps.
func (r Reflector) watched(e ObjectsWatched) (Reflector, string) {
	if r.WaitingForBookmark {
		return r, fmt.Sprintf("%s of %d at resourceVersion %s: into the watch list's temporary store (no bookmark): store unchanged", e.Type, len(e.UIDs), e.ResourceVersion)
	}
	var kept []string
	for _, u := range e.UIDs {
		if (r.Shard == 0 && r.Total == 1) || Keeps(u, r.Shard, r.Total) {
			kept = append(kept, u)
		}
	}
	if r.Whole && (e.Type == watch.Added || e.Type == watch.Deleted) {
		// The event is the whole write: the store is now what the shard
		// keeps at its resourceVersion.
		r.StoreAt = e.ResourceVersion
	}
	if len(kept) == 0 {
		return r, fmt.Sprintf("%s of %d at resourceVersion %s: none kept", e.Type, len(e.UIDs), e.ResourceVersion)
	}
	if r.Whole {
		if e.Type != watch.Added && e.Type != watch.Deleted {
			return r, "ignored: watch event " + string(e.Type)
		}
		r.LastSyncResourceVersion = e.ResourceVersion
		return r, fmt.Sprintf("%s %d of %d at resourceVersion %s; store: what the shard keeps at resourceVersion %s", e.Type, len(kept), len(e.UIDs), e.ResourceVersion, r.StoreAt)
	}
	switch e.Type {
	case watch.Added:
		r.Store = insertSorted(r.Store, kept)
	case watch.Deleted:
		r.Store = deleteSorted(r.Store, kept)
	default:
		return r, "ignored: watch event " + string(e.Type)
	}
	r.LastSyncResourceVersion = e.ResourceVersion
	return r, fmt.Sprintf("%s %d of %d at resourceVersion %s; store holds %d", e.Type, len(kept), len(e.UIDs), e.ResourceVersion, len(r.Store))
}

// insertSorted returns a new sorted slice with add merged into s (add
// items already present are not repeated). It binary-searches each new
// item and copies the runs between them: O(k log n) comparisons for k
// items, not a merge.
func insertSorted(s, add []string) []string {
	add = slices.Clone(add)
	slices.Sort(add)
	out := make([]string, 0, len(s)+len(add))
	i := 0
	for _, u := range add {
		j, found := slices.BinarySearch(s[i:], u)
		out = append(out, s[i:i+j]...)
		i += j
		if !found {
			out = append(out, u)
		}
	}
	return append(out, s[i:]...)
}

// deleteSorted returns a new slice: s without the items of del. Like
// insertSorted it binary-searches each item and copies the runs between.
func deleteSorted(s, del []string) []string {
	del = slices.Clone(del)
	slices.Sort(del)
	out := make([]string, 0, len(s))
	i := 0
	for _, u := range del {
		j, found := slices.BinarySearch(s[i:], u)
		out = append(out, s[i:i+j]...)
		i += j
		if found {
			i++
		}
	}
	return append(out, s[i:]...)
}

// ParseResourceVersion reads a resourceVersion; "" and "0" are 0.
func ParseResourceVersion(rv string) uint64 {
	n, _ := strconv.ParseUint(rv, 10, 64)
	return n
}
