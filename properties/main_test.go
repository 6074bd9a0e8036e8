package properties_test

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

var (
	exportDir = flag.String("export", "", "write the counterexample the label-selector rapid test finds to this directory, as a trace file")
	force     = flag.Bool("export.force", false, "with -export: replace an existing file")
)

// minRapidChecks is the default number of random traces of each rapid
// property in this package; -rapid.checks (or RAPID_CHECKS) overrides it.
const minRapidChecks = 1000

func TestMain(m *testing.M) {
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !set["rapid.checks"] && !env {
		if err := flag.Set("rapid.checks", fmt.Sprint(minRapidChecks)); err != nil {
			fmt.Fprintln(os.Stderr, "properties: cannot raise rapid.checks:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// setFlag sets a registered flag for the duration of a test.
func setFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag -%s", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}
