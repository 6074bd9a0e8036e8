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
	explore   = flag.Bool("explore", false, "seed rapid and gopter from the clock instead of the fixed default seeds (each failure prints its seed and the command that replays it)")
)

// The default seeds: every run of `go test ./properties` checks the same
// cases. -explore draws new ones from the clock; -rapid.seed (or
// RAPID_SEED) and -gopter.seed pick others.
const (
	defaultRapidSeed  = 1
	defaultGopterSeed = 1
)

// seedsChosen is set when the command line (or RAPID_SEED) chose the
// seeds; checksChosen when it (or RAPID_CHECKS) chose the number of
// checks.
var seedsChosen, checksChosen bool

// minRapidChecks is the default number of random traces of each rapid
// property in this package; -rapid.checks (or RAPID_CHECKS) overrides it.
const minRapidChecks = 1000

func TestMain(m *testing.M) {
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	_, checksEnv := os.LookupEnv("RAPID_CHECKS")
	checksChosen = set["rapid.checks"] || checksEnv
	if !checksChosen {
		if err := flag.Set("rapid.checks", fmt.Sprint(minRapidChecks)); err != nil {
			fmt.Fprintln(os.Stderr, "properties: cannot raise rapid.checks:", err)
			os.Exit(2)
		}
	}
	if _, env := os.LookupEnv("RAPID_SEED"); !set["rapid.seed"] && !env && !*explore {
		if err := flag.Set("rapid.seed", fmt.Sprint(defaultRapidSeed)); err != nil {
			fmt.Fprintln(os.Stderr, "properties: cannot set rapid.seed:", err)
			os.Exit(2)
		}
	}
	_, seedEnv := os.LookupEnv("RAPID_SEED")
	seedsChosen = *explore || seedEnv || set["rapid.seed"] || set["gopter.seed"]
	if *explore && (set["rapid.seed"] || set["gopter.seed"]) {
		fmt.Fprintln(os.Stderr, "properties: -explore draws the seeds from the clock; it cannot be combined with -rapid.seed or -gopter.seed")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// rapidChecks sets the number of random traces of the test's rapid
// properties to n (a quarter of it with -short), unless -rapid.checks or
// RAPID_CHECKS chose it: the default of minRapidChecks is for the cheap
// properties, and the whole package must stay within half a minute.
func rapidChecks(t *testing.T, n int) {
	t.Helper()
	if checksChosen {
		return
	}
	if testing.Short() {
		n = max(n/4, 1)
	}
	setFlag(t, "rapid.checks", fmt.Sprint(n))
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

// TestSeedsAreFixed: without -explore, -rapid.seed, RAPID_SEED or
// -gopter.seed, every random test starts from the default seeds, so two
// runs check the same cases.
func TestSeedsAreFixed(t *testing.T) {
	if seedsChosen {
		t.Skip("seeds chosen on the command line")
	}
	if got := flag.Lookup("rapid.seed").Value.String(); got != fmt.Sprint(defaultRapidSeed) {
		t.Errorf("rapid.seed %s, want the default %d", got, defaultRapidSeed)
	}
	if *gopterSeed != 0 {
		t.Errorf("gopter.seed %d", *gopterSeed)
	}
}
