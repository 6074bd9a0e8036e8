package ksm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shardsim/shardsim/model"
)

// A Release is a kube-state-metrics release the ksm backend can run: the
// model's release (model.Releases: its client-go, StatefulSet strategy and
// data plane rules) and whether the ksm backend can fetch it.
type Release struct {
	// Version is the release tag, "v2.13.0".
	Version string
	// Served reports whether the Go module proxy serves the release
	// (tried once each on 2026-11-30). The others run only from a
	// checkout (--ksm-source).
	Served bool
	// Model is the release as the model's reducer
	// (model.ReleaseByVersion): Model.ClientGo is the client-go it pins,
	// Model.Selector the strategy of its StatefulSet watch (label-selector
	// up to v2.12.0, field-selector from v2.13.0: PR #2347, issue #2355),
	// Model.Rules its sharded ListWatch.
	Model model.Release
}

// refused lists the releases the Go module proxy does not serve (tried
// once each on 2026-11-30): their go.mod does not match their tag.
var refused = []string{"v2.14.0", "v2.17.0", "v2.19.0"}

// Releases lists the releases from v2.10.0 to v2.20.0, oldest first: every
// release of the model (model.Releases).
var Releases = releases()

func releases() []Release {
	var out []Release
	for _, m := range model.Releases() {
		out = append(out, Release{Version: m.Version, Served: !slices.Contains(refused, m.Version), Model: m})
	}
	return out
}

// DefaultRelease is the release a reducer stands for: a release is itself
// ("v2.19.1"); label-selector is v2.12.0 (the last with the bug),
// field-selector (and any other name) v2.13.0 (the fix).
func DefaultRelease(reducer string) string {
	if _, err := LookupRelease(reducer); err == nil {
		return reducer
	}
	if reducer == (model.LabelSelector{}).Name() {
		return "v2.12.0"
	}
	return "v2.13.0"
}

// LookupRelease returns the release named v; an unknown name is an error
// that lists the known ones.
func LookupRelease(v string) (Release, error) {
	for _, r := range Releases {
		if r.Version == v {
			return r, nil
		}
	}
	var known []string
	for _, r := range Releases {
		known = append(known, r.Version)
	}
	return Release{}, fmt.Errorf("unknown kube-state-metrics release %q: the ksm backend knows %s (see 'simrun ksm list'); for any other version or a branch, use --ksm-source DIR with a kube-state-metrics checkout", v, strings.Join(known, ", "))
}
