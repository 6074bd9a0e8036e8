package htmlreport_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/internal/golden"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

const traceDir = "../traces"

// traceFiles lists every trace file (sim.TraceFiles).
func traceFiles(t *testing.T) []string {
	t.Helper()
	files, err := sim.TraceFiles(traceDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// replay loads path and replays it against every reducer; the event log
// (Result.Log) is always filled by sim.Replay.
func replay(t *testing.T, path string) *sim.Report {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func render(t *testing.T, rep *sim.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := htmlreport.Write(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// --- a little DOM querying over golang.org/x/net/html ---

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// findAll returns the element nodes under n (n included) that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func element(tag string, classes ...string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Data != tag {
			return false
		}
		for _, c := range classes {
			if !hasClass(n, c) {
				return false
			}
		}
		return true
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	for _, t := range findAllText(n) {
		b.WriteString(t)
	}
	return b.String()
}

func findAllText(n *html.Node) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			out = append(out, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// ownTitle is the text of n's <title> child, the hover text.
func ownTitle(n *html.Node) string {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "title" {
			return text(c)
		}
	}
	return ""
}

func section(t *testing.T, doc *html.Node, reducer string) *html.Node {
	t.Helper()
	s := findAll(doc, func(n *html.Node) bool {
		id, _ := attr(n, "id")
		return n.Data == "section" && id == "r-"+reducer
	})
	if len(s) != 1 {
		t.Fatalf("want one <section id=r-%s>, got %d", reducer, len(s))
	}
	return s[0]
}

// wantOrdinals lists the pod ordinals a result mentions anywhere.
func wantOrdinals(res *sim.Result) []int {
	var out []int
	add := func(o int) {
		if o >= 0 && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, cs := range [][]sim.Checkpoint{res.Checkpoints, res.Transient} {
		for _, c := range cs {
			for _, p := range c.Pods {
				add(p.Pod)
			}
		}
	}
	for _, e := range res.Log {
		add(e.Pod)
	}
	slices.Sort(out)
	return out
}

// TestEveryTrace renders the report of every trace under traces/ and
// checks the page: it parses, it is self-contained, it has the verdict of
// each reducer in words, one column per point, one lane per pod ordinal
// the report mentions, the two bands, and well-formed SVG. Rendering
// twice gives the same bytes.
func TestEveryTrace(t *testing.T) {
	for _, path := range traceFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rep := replay(t, path)
			out := render(t, rep)
			if again := render(t, rep); !bytes.Equal(out, again) {
				t.Fatal("two renderings of the same report differ")
			}
			checkSelfContained(t, out)
			checkSVGWellFormed(t, out)
			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, res := range rep.Results {
				sec := section(t, doc, res.Reducer)
				if !strings.Contains(text(sec), sim.Verdict(res)) {
					t.Errorf("%s: the verdict %q is not on the page", res.Reducer, sim.Verdict(res))
				}
				svgs := findAll(sec, element("svg"))
				if len(svgs) != 1 {
					t.Fatalf("%s: want one <svg>, got %d", res.Reducer, len(svgs))
				}
				svg := svgs[0]

				var got []int
				for _, lane := range findAll(svg, element("g", "lane")) {
					v, ok := attr(lane, "data-pod")
					o, err := strconv.Atoi(v)
					if !ok || err != nil {
						t.Fatalf("%s: lane without a numeric data-pod: %q", res.Reducer, v)
					}
					got = append(got, o)
					if !strings.Contains(text(lane), "pod "+v) {
						t.Errorf("%s: lane %d is not labelled %q", res.Reducer, o, "pod "+v)
					}
				}
				if want := wantOrdinals(res); !slices.Equal(got, want) {
					t.Errorf("%s: lanes for pods %v, want %v", res.Reducer, got, want)
				}

				points := len(res.Checkpoints) + len(res.Transient)
				if cols := findAll(svg, element("g", "col")); len(cols) != points {
					t.Errorf("%s: %d columns, want %d (checkpoints + transient)", res.Reducer, len(cols), points)
				}
				if cps := findAll(svg, element("circle", "cp")); len(cps) != points {
					t.Errorf("%s: %d checkpoint markers, want %d", res.Reducer, len(cps), points)
				}
				for _, band := range []string{"gap", "overlap"} {
					rows := findAll(svg, func(n *html.Node) bool {
						v, _ := attr(n, "data-band")
						return n.Data == "g" && v == band
					})
					if len(rows) != 1 {
						t.Fatalf("%s: want one %s band row, got %d", res.Reducer, band, len(rows))
					}
					if cells := findAll(rows[0], element("g", "band")); len(cells) != points {
						t.Errorf("%s: %d %s cells, want %d", res.Reducer, len(cells), band, points)
					}
				}
			}
		})
	}
}

// checkSelfContained fails on anything that would reach the network or
// run code: scripts, links, external resources.
func checkSelfContained(t *testing.T, out []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		switch n.Data {
		case "script", "link", "iframe", "img", "object", "embed", "image", "use":
			t.Errorf("the page has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") {
				t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
			}
			if (k == "src" || k == "href" || strings.HasSuffix(k, ":href")) && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
			}
		}
	}
	for _, bad := range []string{"@import", "url(", "http://", "https://"} {
		s := string(out)
		// The SVG namespace URI is an identifier, not a resource.
		s = strings.ReplaceAll(s, `xmlns="http://www.w3.org/2000/svg"`, "")
		if strings.Contains(s, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}

// checkSVGWellFormed parses every <svg> element of the page as XML, so
// that it can be cut out into an .svg file.
func checkSVGWellFormed(t *testing.T, out []byte) {
	t.Helper()
	rest := out
	n := 0
	for {
		i := bytes.Index(rest, []byte("<svg xmlns="))
		if i < 0 {
			break
		}
		j := bytes.Index(rest[i:], []byte("</svg>"))
		if j < 0 {
			t.Fatal("unterminated <svg>")
		}
		part := rest[i : i+j+len("</svg>")]
		dec := xml.NewDecoder(bytes.NewReader(part))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("SVG %d is not well-formed XML: %v", n, err)
			}
		}
		n++
		rest = rest[i+j:]
	}
	if n == 0 {
		t.Fatal("no <svg> timeline on the page")
	}
}

// TestGolden compares the report of traces/relabel.json with
// testdata/relabel.html.
func TestGolden(t *testing.T) {
	out := render(t, replay(t, filepath.Join(traceDir, "relabel.json")))
	golden.Check(t, filepath.Join("testdata", "relabel.html"), out, "go test ./htmlreport -run TestGolden")
}

// TestRelabelTimeline checks what a reader of the relabel report must
// see: after the scale the label-selector pods 0 and 1 are stale (0/2 and
// 1/2) next to pod 2's 2/3, the overlap band counts the objects exported
// twice and names the step, the op and the first five UIDs; both pods'
// watches lost the StatefulSet at the relabel. The field selector has no
// stale segment.
func TestRelabelTimeline(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "relabel.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	var label *sim.Result
	for _, res := range rep.Results {
		if res.Reducer == "label-selector" {
			label = res
		}
	}
	if label == nil {
		t.Fatal("no label-selector result")
	}
	sec := section(t, doc, "label-selector")
	var stale []string
	for _, g := range findAll(sec, element("g", "stale")) {
		stale = append(stale, text(findAll(g, element("text"))[0]))
	}
	if want := []string{"0/2", "1/2"}; !slices.Equal(stale, want) {
		t.Errorf("stale label-selector segments %v, want %v", stale, want)
	}
	last := label.Checkpoints[len(label.Checkpoints)-1]
	if last.Overlap.Count == 0 || len(last.Overlap.UIDs) < 6 {
		t.Fatalf("the relabel trace should end with an overlap of more than 5 objects, got %d", last.Overlap.Count)
	}
	var band *html.Node
	for _, g := range findAll(sec, element("g", "overlap")) {
		if hasClass(g, "band") {
			band = g
		}
	}
	if band == nil {
		t.Fatal("no highlighted overlap band")
	}
	title := ownTitle(band)
	for _, want := range append([]string{"after step 1 (scale)", strconv.Itoa(last.Overlap.Count) + " of 1000"}, last.Overlap.UIDs[:5]...) {
		if !strings.Contains(title, want) {
			t.Errorf("overlap band title lacks %q:\n%s", want, title)
		}
	}
	if strings.Contains(title, last.Overlap.UIDs[5]) {
		t.Errorf("overlap band title names more than 5 UIDs:\n%s", title)
	}
	if got := text(band); !strings.Contains(got, strconv.Itoa(last.Overlap.Count)) {
		t.Errorf("overlap band label %q lacks the count", got)
	}

	lost := 0
	for _, m := range findAll(sec, element("g", "marker")) {
		if len(findAll(m, element("path", "g-lost"))) > 0 {
			lost++
			if tt := ownTitle(m); !strings.Contains(tt, "during step 0 (relabel)") || !strings.Contains(tt, "watch DELETED") {
				t.Errorf("lost-watch marker title:\n%s", tt)
			}
		}
	}
	if lost != 2 {
		t.Errorf("%d lost-watch markers in label-selector, want 2 (pods 0 and 1 at the relabel)", lost)
	}
	field := section(t, doc, "field-selector")
	if n := len(findAll(field, element("g", "stale"))); n != 0 {
		t.Errorf("field-selector has %d stale segments, want 0", n)
	}
	if n := len(findAll(field, element("path", "g-lost"))); n != 0 {
		t.Errorf("field-selector has %d lost-watch markers, want 0", n)
	}
}

// TestRestartMarkers: in traces/restart.json every pod is restarted at
// step 2, which the timeline shows as a stop and a start on each lane.
func TestRestartMarkers(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "restart.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		sec := section(t, doc, res.Reducer)
		restarted := 0
		for _, m := range findAll(sec, element("g", "marker")) {
			if strings.Contains(ownTitle(m), "during step 2 (restart): restarted") {
				restarted++
				if len(findAll(m, element("rect", "g-stop"))) != 1 || len(findAll(m, element("polygon", "g-start"))) != 1 {
					t.Errorf("%s: a restart marker needs a stop and a start glyph", res.Reducer)
				}
			}
		}
		if restarted != 3 {
			t.Errorf("%s: %d restart markers at step 2, want 3", res.Reducer, restarted)
		}
	}
}

// TestWithoutLog: a report without event logs (as read back from
// --format json) still renders its lanes, just without markers.
func TestWithoutLog(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "relabel.json"))
	for _, res := range rep.Results {
		res.Log = nil
	}
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(findAll(doc, element("g", "marker"))); n != 0 {
		t.Errorf("%d markers without an event log", n)
	}
	if n := len(findAll(doc, element("g", "lane"))); n != 6 {
		t.Errorf("%d lanes, want 6 (3 pods x 2 reducers)", n)
	}
}

// TestEscaping: text from the trace is escaped, never markup.
func TestEscaping(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "relabel.json"))
	rep.Description = `<script>alert("x")</script> & <b>`
	out := render(t, rep)
	if bytes.Contains(out, []byte("<script>")) || bytes.Contains(out, []byte("& <b>")) {
		t.Error("the description was not escaped")
	}
	if !bytes.Contains(out, []byte("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;")) {
		t.Error("the escaped description is not on the page")
	}
	checkSelfContained(t, out)
}

func TestNilReport(t *testing.T) {
	if err := htmlreport.Write(io.Discard, nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
}

// TestDegenerateReports: a report with no results, and a result with no
// point at all, still render a page that parses.
func TestDegenerateReports(t *testing.T) {
	for name, rep := range map[string]*sim.Report{
		"no results": {Trace: "empty", Schedule: "eager"},
		"no points": {Trace: "nothing", Schedule: "explicit", Results: []*sim.Result{
			{Reducer: "label-selector", Models: "kube-state-metrics <= v2.12.0"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			out := render(t, rep)
			checkSelfContained(t, out)
			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range rep.Results {
				if !strings.Contains(text(section(t, doc, res.Reducer)), sim.Verdict(res)) {
					t.Errorf("verdict of %s missing", res.Reducer)
				}
			}
		})
	}
}

// TestDriftBand: with transient windows measured (simrun --windows) the
// timeline gets a "drift" band, with a cell per point and the violated
// intermediate states of each step; without them it has none.
func TestDriftBand(t *testing.T) {
	tr, err := sim.LoadTrace(filepath.Join(traceDir, "scale.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, windows := range []bool{false, true} {
		rep, err := sim.Replay(tr, []model.Reducer{model.FieldSelector{}}, sim.Options{Windows: windows})
		if err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		if err := htmlreport.Write(&page, rep); err != nil {
			t.Fatal(err)
		}
		html := page.String()
		has := strings.Contains(html, `data-band="drift"`)
		if has != windows {
			t.Fatalf("windows %v: drift band present %v", windows, has)
		}
		if !windows {
			continue
		}
		// scale.json's three scales each have violated intermediate states.
		if n := strings.Count(html, `class="band drift"`); n != 3 {
			t.Errorf("%d violated drift cells, want 3", n)
		}
		if !strings.Contains(html, "intermediate states (after each delivery that changed what a pod serves) violate a property") {
			t.Error("no hover text on the drift cells")
		}
		if !strings.Contains(html, "drift: intermediate states violated / measured") {
			t.Error("no legend entry for the drift band")
		}
	}
}
