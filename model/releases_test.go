package model_test

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/shardsim/shardsim/model"
)

func TestReleaseTable(t *testing.T) {
	rs := model.Releases()
	if rs[0].Version != "v2.10.0" || rs[len(rs)-1].Version != "v2.20.0" {
		t.Fatalf("releases run from %s to %s, want v2.10.0 to v2.20.0", rs[0].Version, rs[len(rs)-1].Version)
	}
	for i, r := range rs {
		if i > 0 && !version.MustParseSemantic(r.Version).GreaterThan(version.MustParseSemantic(rs[i-1].Version)) {
			t.Errorf("%s listed after %s: want oldest first", r.Version, rs[i-1].Version)
		}
		if r.ClientGo == "" || r.Selector == nil {
			t.Errorf("%s: incomplete row %+v", r.Version, r)
		}
		if got, ok := model.ReducerByName(r.Version); !ok || got.Name() != r.Version {
			t.Errorf("ReducerByName(%s) = %v, %v", r.Version, got, ok)
		}
	}
	for i, c := range model.Changes {
		if _, ok := model.ReleaseByVersion(c.Since); !ok {
			t.Errorf("change %d is since %s, not a known release", i, c.Since)
		}
		if c.What == "" || c.Source == "" {
			t.Errorf("change %d (%s) does not say what it changes and where the source shows it", i, c.Since)
		}
		if i > 0 && version.MustParseSemantic(c.Since).LessThan(version.MustParseSemantic(model.Changes[i-1].Since)) {
			t.Errorf("change %d (%s) listed after %s: want oldest first", i, c.Since, model.Changes[i-1].Since)
		}
	}
	if _, ok := model.ReducerByName("v2.9.0"); ok {
		t.Errorf("ReducerByName accepts v2.9.0, which the table does not cover")
	}
}

// TestReleaseBehaviour pins each release's behaviour to the facts the KSM
// and client-go sources show (Changes cites them).
func TestReleaseBehaviour(t *testing.T) {
	at := func(v string) model.Release {
		r, ok := model.ReleaseByVersion(v)
		if !ok {
			t.Fatalf("no release %s", v)
		}
		return r
	}
	for _, r := range model.Releases() {
		v := version.MustParseSemantic(r.Version)
		wantSelector := "field-selector"
		if v.LessThan(version.MustParseSemantic("v2.13.0")) {
			wantSelector = "label-selector" // PR #2347
		}
		want := model.ListWatchRules{
			DropsContinue:    v.LessThan(version.MustParseSemantic("v2.20.0")),  // PR #3065
			FiltersBookmarks: v.LessThan(version.MustParseSemantic("v2.19.1")),  // #2973's fix
			WatchList:        !v.LessThan(version.MustParseSemantic("v2.19.0")), // client-go v0.35
		}
		if r.Selector.Name() != wantSelector || r.Rules != want || r.ListWatch() != want {
			t.Errorf("%s: %s %+v, want %s %+v", r.Version, r.Selector.Name(), r.Rules, wantSelector, want)
		}
		if r.Rules.WatchList != !version.MustParseSemantic(r.ClientGo).LessThan(version.MustParseSemantic("v0.35.0")) {
			t.Errorf("%s pins client-go %s, yet WatchList is %v (on by default from v0.35)", r.Version, r.ClientGo, r.Rules.WatchList)
		}
	}
	// The named reducers stand for v2.12.0 and v2.13.0.
	if got := (model.LabelSelector{}).ListWatch(); got != at("v2.12.0").Rules {
		t.Errorf("label-selector's rules %+v, want v2.12.0's %+v", got, at("v2.12.0").Rules)
	}
	if got := (model.FieldSelector{}).ListWatch(); got != at("v2.13.0").Rules {
		t.Errorf("field-selector's rules %+v, want v2.13.0's %+v", got, at("v2.13.0").Rules)
	}
}

func TestKnownReducers(t *testing.T) {
	s := model.KnownReducers()
	for _, want := range append(model.ReducerNames(), model.ReleaseVersions()...) {
		if !strings.Contains(s, want) {
			t.Errorf("KnownReducers() = %q does not name %s", s, want)
		}
	}
}

// Releases lists every release the model knows as a reducer: its
// StatefulSet strategy and how its data plane differs.
func ExampleReleases() {
	for _, r := range model.Releases() {
		fmt.Printf("%s client-go %s %s dropsContinue=%v watchList=%v filtersBookmarks=%v\n",
			r.Version, r.ClientGo, r.Selector.Name(), r.Rules.DropsContinue, r.Rules.WatchList, r.Rules.FiltersBookmarks)
	}
	// Output:
	// v2.10.0 client-go v0.27.5 label-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.11.0 client-go v0.28.4 label-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.12.0 client-go v0.29.3 label-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.13.0 client-go v0.30.3 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.14.0 client-go v0.31.2 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.15.0 client-go v0.32.1 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.16.0 client-go v0.32.6 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.17.0 client-go v0.33.4 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.18.0 client-go v0.34.3 field-selector dropsContinue=true watchList=false filtersBookmarks=true
	// v2.19.0 client-go v0.35.4 field-selector dropsContinue=true watchList=true filtersBookmarks=true
	// v2.19.1 client-go v0.35.4 field-selector dropsContinue=true watchList=true filtersBookmarks=false
	// v2.20.0 client-go v0.36.3 field-selector dropsContinue=false watchList=true filtersBookmarks=false
}
