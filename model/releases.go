package model

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

// A Release is one kube-state-metrics release as a reducer: its whole
// sharding behaviour, the StatefulSet strategy and the list/watch rules of
// its data plane, as the rows of Changes up to it make it.
type Release struct {
	// Version is the release tag, "v2.19.1".
	Version string
	// ClientGo is the k8s.io/client-go version its go.mod pins.
	ClientGo string
	// Selector is the strategy of its StatefulSet informer.
	Selector Reducer
	// Rules are its sharded ListWatch and reflector.
	Rules ListWatchRules
	// Node is its handling of DaemonSet sharding's flags.
	Node NodeRules
}

// Name implements Reducer: the release tag.
func (r Release) Name() string { return r.Version }

// Models implements Reducer: "kube-state-metrics v2.19.1: " and Summary.
func (r Release) Models() string {
	return "kube-state-metrics " + r.Version + ": " + r.Summary()
}

// Summary is the release's sharding behaviour in a line: its StatefulSet
// strategy, the client-go it pins and its list/watch quirks
// ("field-selector, client-go v0.35.4, drops-continue, watchlist").
func (r Release) Summary() string {
	return strings.Join(append([]string{r.Selector.Name(), "client-go " + r.ClientGo}, r.Rules.Quirks()...), ", ")
}

// ListOptions implements Reducer: the release's StatefulSet strategy.
func (r Release) ListOptions(ss *appsv1.StatefulSet) metav1.ListOptions {
	return r.Selector.ListOptions(ss)
}

// ListWatch implements Reducer.
func (r Release) ListWatch() ListWatchRules { return r.Rules }

// A Change is one change of KSM's sharding behaviour: the first release
// that has it, what it changes, and where KSM's source shows it.
type Change struct {
	Since  string
	What   string
	Source string
	apply  func(*Release)
}

// Changes is every change of KSM's sharding behaviour from v2.10.0, oldest
// first: a release behaves as the rows up to it say. Each cites the KSM
// source, commit or pull request (and, for the reflector, the client-go
// source) it was read from.
var Changes = []Change{
	{
		Since: "v2.10.0",
		What: "autosharding follows the StatefulSet through an informer whose label selector is the labels read at start; " +
			"the sharded List copies only the resourceVersion (Continue dropped); the sharded Watch filters every event, BOOKMARKs too, by its UID; " +
			"client-go's reflector lists, then watches (the WatchListClient gate is off)",
		Source: "pkg/metricshandler/metrics_handler.go (o.LabelSelector = fields.SelectorFromSet(ss.Labels)); pkg/sharding/listwatch.go (List, Watch); " +
			"client-go tools/cache/reflector.go, features/known_features.go (WatchListClient: Beta, default false)",
		apply: func(r *Release) {
			r.Selector = LabelSelector{}
			r.Rules = ListWatchRules{DropsContinue: true, FiltersBookmarks: true}
		},
	},
	{
		Since: "v2.11.0",
		What: "--node becomes a set of names and GetNodeFieldSelector keeps only [a-zA-Z0-9_,-] of it: " +
			"a node name with dots (ip-10-0-1-7.ec2.internal) becomes another name and the DaemonSet pod on it selects no pod (issue #2374)",
		Source: "PR #2217, pkg/options/types.go at v2.11.0 (NodeType map[string]struct{}; regexp \"[^a-zA-Z0-9_,-]+\")",
		apply:  func(r *Release) { r.Node.StripsNode = true },
	},
	{
		Since:  "v2.13.0",
		What:   "the StatefulSet informer selects by metadata.name (a field selector), which relabelling cannot break",
		Source: "PR #2347 (issue #2355)",
		apply:  func(r *Release) { r.Selector = FieldSelector{} },
	},
	{
		Since: "v2.14.0",
		What: "--track-unscheduled-pods selects the pods no node runs (spec.nodeName=), and --node is one name again, not sanitised; " +
			"before, the flag is unknown and KSM exits on it",
		Source: "PR #2388: pkg/app/server.go (nodeFieldSelector = \"spec.nodeName=\"), pkg/options/types.go, pkg/options/options.go at v2.14.0",
		apply:  func(r *Release) { r.Node = NodeRules{TrackUnscheduledPods: true} },
	},
	{
		Since: "v2.19.0",
		What: "client-go v0.35: every reflector asks for a watch list (sendInitialEvents) first and waits for its k8s.io/initial-events-end bookmark, " +
			"falling back to LIST when the server refuses; the sharded ListWatch does not opt out (it delegates IsWatchListSemanticsUnSupported), " +
			"and its Watch still filters that bookmark by its empty UID, so only one shard ever syncs (issue #2973)",
		Source: "go.mod (k8s.io/client-go v0.35.4); client-go features/known_features.go (WatchListClient default true from 1.35), " +
			"tools/cache/reflector.go (watchList), util/watchlist (DoesClientNotSupportWatchListSemantics); pkg/sharding/listwatch.go at v2.19.0",
		apply: func(r *Release) { r.Rules.WatchList = true },
	},
	{
		Since:  "v2.19.1",
		What:   "the sharded Watch passes BOOKMARK events to every shard",
		Source: "PR #2974 (issue #2973): pkg/sharding/listwatch.go at v2.19.1 (\"Bookmarks are stream control events\")",
		apply:  func(r *Release) { r.Rules.FiltersBookmarks = false },
	},
	{
		Since:  "v2.20.0",
		What:   "the sharded List keeps Continue and RemainingItemCount, so a paged list reads every page",
		Source: "PR #3065, commit 5fe2a148 (pkg/sharding/listwatch.go: res.Continue = metaObj.GetContinue())",
		apply:  func(r *Release) { r.Rules.DropsContinue = false },
	},
}

// releaseClientGo lists the releases the model knows, oldest first, with
// the client-go each pins (its go.mod).
var releaseClientGo = []struct{ version, clientGo string }{
	{"v2.10.0", "v0.27.5"},
	{"v2.11.0", "v0.28.4"},
	{"v2.12.0", "v0.29.3"},
	{"v2.13.0", "v0.30.3"},
	{"v2.14.0", "v0.31.2"},
	{"v2.15.0", "v0.32.1"},
	{"v2.16.0", "v0.32.6"},
	{"v2.17.0", "v0.33.4"},
	{"v2.18.0", "v0.34.3"},
	{"v2.19.0", "v0.35.4"},
	{"v2.19.1", "v0.35.4"},
	{"v2.20.0", "v0.36.3"},
}

// releases is the table applied once: every release with the rows of
// Changes up to it.
var releases = buildReleases()

// Releases returns every release the model knows, v2.10.0 to v2.20.0,
// oldest first.
func Releases() []Release { return slices.Clone(releases) }

func buildReleases() []Release {
	out := make([]Release, len(releaseClientGo))
	for i, rc := range releaseClientGo {
		r := Release{Version: rc.version, ClientGo: rc.clientGo}
		v := version.MustParseSemantic(rc.version)
		for _, c := range Changes {
			if v.AtLeast(version.MustParseSemantic(c.Since)) {
				c.apply(&r)
			}
		}
		out[i] = r
	}
	return out
}

// ReleaseByVersion returns the release tagged v ("v2.19.1").
func ReleaseByVersion(v string) (Release, bool) {
	i := slices.IndexFunc(releases, func(r Release) bool { return r.Version == v })
	if i < 0 {
		return Release{}, false
	}
	return releases[i], true
}

// ReleaseVersions returns the tags of Releases, oldest first.
func ReleaseVersions() []string {
	out := make([]string, len(releaseClientGo))
	for i, rc := range releaseClientGo {
		out[i] = rc.version
	}
	return out
}

// Quirks names the rules in a word each, in the order of Changes:
// "drops-continue" (the sharded List, until v2.20.0), "watchlist" (the
// reflector, from v2.19.0) and "filters-bookmark" (the sharded Watch, named
// only where a reflector waits for a bookmark: v2.19.0).
func (r ListWatchRules) Quirks() []string {
	var q []string
	if r.DropsContinue {
		q = append(q, "drops-continue")
	}
	if r.WatchList {
		q = append(q, "watchlist")
		if r.FiltersBookmarks {
			q = append(q, "filters-bookmark")
		}
	}
	return q
}
