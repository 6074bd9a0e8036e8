package ksm

import (
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/model"
)

// A Release is a kube-state-metrics release the ksm backend can run.
type Release struct {
	// Version is the release tag, "v2.13.0".
	Version string
	// Served reports whether the Go module proxy serves the release
	// (tried once each on 2026-11-30). The others run only from a
	// checkout (--ksm-source).
	Served bool
	// Reducer is the model reducer of the release's StatefulSet watch:
	// label-selector up to v2.12.0, field-selector from v2.13.0
	// (PR #2347, issue #2355).
	Reducer string
	// ClientGo is the client-go version the release pins (its go.mod).
	ClientGo string
}

// Releases lists the releases from v2.10.0 to v2.20.0, oldest first.
var Releases = []Release{
	{"v2.10.0", true, "label-selector", "v0.27.5"},
	{"v2.11.0", true, "label-selector", "v0.28.4"},
	{"v2.12.0", true, "label-selector", "v0.29.3"},
	{"v2.13.0", true, "field-selector", "v0.30.3"},
	{"v2.14.0", false, "field-selector", "v0.31.2"},
	{"v2.15.0", true, "field-selector", "v0.32.1"},
	{"v2.16.0", true, "field-selector", "v0.32.6"},
	{"v2.17.0", false, "field-selector", "v0.33.4"},
	{"v2.18.0", true, "field-selector", "v0.34.3"},
	{"v2.19.0", false, "field-selector", "v0.35.4"},
	{"v2.19.1", true, "field-selector", "v0.35.4"},
	{"v2.20.0", true, "field-selector", "v0.36.3"},
}

// DefaultRelease is the release each reducer models: label-selector is
// v2.12.0 (the last with the bug), field-selector v2.13.0 (the fix).
func DefaultRelease(reducer string) string {
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
