package htmlreport_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
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
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

const traceDir = "../traces"

// traceFiles lists every trace file: sim.TraceFiles, and the traces of
// the subdirectories it leaves out (bugs, faults, static and DaemonSet
// sharding).
func traceFiles(t *testing.T) []string {
	t.Helper()
	files, err := sim.TraceFiles(traceDir)
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join(traceDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
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

// replayWith loads path and replays it against reducers (nil: the
// trace's, as simrun picks them: sim.ExpectedReducers).
func replayWith(t *testing.T, path string, reducers []model.Reducer) *sim.Report {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	if reducers == nil {
		reducers = sim.ExpectedReducers(tr)
	}
	rep, err := sim.Replay(tr, reducers, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// wantOrdinals lists the pod ordinals (static sharding: lanes) a result
// mentions anywhere.
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

// wantNodes lists the node lanes a DaemonSet sharding result needs: every
// node of a point, every node a KSM pod runs on, and "" for the
// unscheduled pods' Deployment when it has a KSM pod.
func wantNodes(res *sim.Result) []string {
	var out []string
	hasUnscheduled := false
	for _, cs := range [][]sim.Checkpoint{res.Checkpoints, res.Transient} {
		for _, c := range cs {
			if c.Nodes == nil {
				continue
			}
			for _, n := range c.Nodes.Nodes {
				if !slices.Contains(out, n.Node) {
					out = append(out, n.Node)
				}
			}
			for _, in := range c.Nodes.Instances {
				if in.Node == "" {
					hasUnscheduled = true
				} else if !slices.Contains(out, in.Node) {
					out = append(out, in.Node)
				}
			}
		}
	}
	slices.Sort(out)
	if hasUnscheduled {
		out = append([]string{""}, out...)
	}
	return out
}

// staticNames maps a static result's lanes to their names.
func staticNames(res *sim.Result) map[int]string {
	names := map[int]string{}
	for _, cs := range [][]sim.Checkpoint{res.Checkpoints, res.Transient} {
		for _, c := range cs {
			for _, p := range c.Pods {
				names[p.Pod] = p.Name
			}
		}
	}
	return names
}

// lanesByNode returns the DaemonSet sharding lanes of a section by node.
func lanesByNode(t *testing.T, sec *html.Node) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	for _, lane := range findAll(sec, element("g", "lane", "nodelane")) {
		v, ok := attr(lane, "data-node")
		if !ok {
			t.Fatal("a node lane without data-node")
		}
		out[v] = lane
	}
	return out
}

// segments returns the labels of a lane's segments with the given class.
func segments(lane *html.Node, class string) []string {
	var out []string
	for _, g := range findAll(lane, element("g", "seg", class)) {
		out = append(out, text(findAll(g, element("text"))[0]))
	}
	return out
}

// TestEveryTrace renders the report of every trace under traces/ and
// checks the page: it parses, it is self-contained, it has the verdict of
// each reducer in words, one column per point, one lane per pod ordinal
// (static sharding: per lane, named by its Deployment; DaemonSet sharding:
// per node and for the unscheduled pods' Deployment) the report mentions,
// the bands (mixed: of both resources), a node view table listing every
// node and KSM pod with its selector, and well-formed SVG. Rendering twice
// gives the same bytes.
func TestEveryTrace(t *testing.T) {
	for _, path := range traceFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			checkReport(t, replay(t, path))
		})
	}
}

// checkReport renders rep and checks the page against it: TestEveryTrace.
func checkReport(t *testing.T, rep *sim.Report) {
	t.Helper()
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
		var gotNodes []string
		names := staticNames(res)
		for _, lane := range findAll(svg, element("g", "lane")) {
			if node, ok := attr(lane, "data-node"); ok {
				gotNodes = append(gotNodes, node)
				label := text(findAll(lane, element("text", "lanelabel"))[0])
				if want := node; (want != "" && label != want) || (want == "" && label != "(unscheduled)" && label != "(all pods)") {
					t.Errorf("%s: the lane of node %q is labelled %q", res.Reducer, node, label)
				}
				continue
			}
			v, ok := attr(lane, "data-pod")
			o, err := strconv.Atoi(v)
			if !ok || err != nil {
				t.Fatalf("%s: lane without a numeric data-pod: %q", res.Reducer, v)
			}
			got = append(got, o)
			want := "pod " + v
			if res.Mode == sim.ModeStatic {
				want = names[o]
				if name, _ := attr(lane, "data-lane"); name != want {
					t.Errorf("%s: static lane %d has data-lane %q, want %q", res.Reducer, o, name, want)
				}
			}
			if label := text(findAll(lane, element("text", "lanelabel"))[0]); label != want {
				t.Errorf("%s: lane %d is labelled %q, want %q", res.Reducer, o, label, want)
			}
		}
		if want := wantOrdinals(res); !slices.Equal(got, want) {
			t.Errorf("%s: lanes for pods %v, want %v", res.Reducer, got, want)
		}
		slices.Sort(gotNodes)
		if want := wantNodes(res); !slices.Equal(gotNodes, want) {
			t.Errorf("%s: lanes for nodes %q, want %q", res.Reducer, gotNodes, want)
		}
		tables := findAll(sec, element("table", "nodes"))
		if nodes := res.Mode == sim.ModeDaemonSet || res.Mode == sim.ModeMixed; nodes != (len(tables) > 0) {
			t.Errorf("%s (mode %q): %d node view tables", res.Reducer, res.Mode, len(tables))
		}
		for _, tab := range tables {
			checkNodeTable(t, res, tab)
		}

		points := len(res.Checkpoints) + len(res.Transient)
		if cols := findAll(svg, element("g", "col")); len(cols) != points {
			t.Errorf("%s: %d columns, want %d (checkpoints + transient)", res.Reducer, len(cols), points)
		}
		if cps := findAll(svg, element("circle", "cp")); len(cps) != points {
			t.Errorf("%s: %d checkpoint markers, want %d", res.Reducer, len(cps), points)
		}
		bands := []string{"gap", "overlap"}
		if res.Mode == sim.ModeMixed {
			bands = append(bands, "pod-gap", "pod-overlap")
		}
		for _, band := range bands {
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
}

// checkNodeTable checks a table of the node view against the first point
// it stands for (data-points): a row for every node with its pod count,
// each KSM pod on it with its field selector, and the unscheduled pods'
// row.
func checkNodeTable(t *testing.T, res *sim.Result, tab *html.Node) {
	t.Helper()
	span, _ := attr(tab, "data-points")
	first, _, _ := strings.Cut(span, "-")
	var c *sim.Checkpoint
	for _, cs := range [][]sim.Checkpoint{res.Checkpoints, res.Transient} {
		for i := range cs {
			if stepLabel(cs[i].Step) == first && c == nil {
				c = &cs[i]
			}
		}
	}
	if c == nil || c.Nodes == nil {
		t.Fatalf("%s: node view table for %q: no such point", res.Reducer, span)
	}
	rows := map[string][]*html.Node{}
	for _, tr := range findAll(tab, element("tr")) {
		if k, ok := attr(tr, "data-node"); ok {
			rows[k] = append(rows[k], tr)
		}
	}
	if len(rows[""]) == 0 {
		t.Errorf("%s, %s: no row for the unscheduled pods", res.Reducer, span)
	}
	for _, n := range c.Nodes.Nodes {
		if len(rows[n.Node]) == 0 {
			t.Errorf("%s, %s: no row for node %s", res.Reducer, span, n.Node)
			continue
		}
		cells := findAll(rows[n.Node][0], element("td"))
		if got := text(cells[1]); got != strconv.Itoa(n.Pods) {
			t.Errorf("%s, %s: node %s has %s pods bound, want %d", res.Reducer, span, n.Node, got, n.Pods)
		}
	}
	for _, in := range c.Nodes.Instances {
		found := false
		for _, tr := range rows[in.Node] {
			cells := findAll(tr, element("td"))
			if text(cells[2]) == in.Pod {
				found = true
				if in.Selector != "" && !strings.Contains(text(cells[4]), in.Selector) {
					t.Errorf("%s, %s: KSM pod %s's row lacks its selector %q: %q", res.Reducer, span, in.Pod, in.Selector, text(cells[4]))
				}
			}
		}
		if !found {
			t.Errorf("%s, %s: no row for KSM pod %s", res.Reducer, span, in.Pod)
		}
	}
}

func stepLabel(step int) string {
	if step < 0 {
		return "init"
	}
	return "step " + strconv.Itoa(step)
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

// goldens are the pages under testdata, one per sharding mode, each the
// report of a trace against model.Reducers().
var goldens = []struct{ trace, golden string }{
	{"relabel.json", "relabel.html"},
	{"static/duplicate-shard.json", "static-duplicate-shard.html"},
	{"daemonset/taint-node.json", "daemonset-taint-node.html"},
	{"daemonset/mixed-relabel.json", "mixed-relabel.html"},
}

// TestGolden compares the report of each golden trace with its page
// under testdata (go test ./htmlreport -run TestGolden -update rewrites
// them; -run TestGolden/mixed-relabel.html just one).
func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.golden, func(t *testing.T) {
			out := render(t, replay(t, filepath.Join(traceDir, g.trace)))
			golden.Check(t, filepath.Join("testdata", g.golden), out, "go test ./htmlreport -run TestGolden/"+g.golden)
		})
	}
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

	// DaemonSet sharding's lanes come from the checkpoints too.
	rep = replay(t, filepath.Join(traceDir, "daemonset", "taint-node.json"))
	for _, res := range rep.Results {
		res.Log = nil
	}
	doc, err = html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(findAll(doc, element("g", "marker"))); n != 0 {
		t.Errorf("taint-node: %d markers without an event log", n)
	}
	if n := len(findAll(doc, element("g", "nodelane"))); n != 8 {
		t.Errorf("taint-node: %d node lanes, want 8 (3 nodes and the unscheduled pods' Deployment x 2 reducers)", n)
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

// TestStaticLanes: a static sharding page names a lane after each
// Deployment and shows its shard/total; a shard run twice (the
// duplicate-shard trace) and a shard out of range are conflicts on both
// lanes involved, in words on hover.
func TestStaticLanes(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "static", "rollout-surge.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		sec := section(t, doc, res.Reducer)
		var labels []string
		for _, l := range findAll(sec, element("text", "lanelabel")) {
			labels = append(labels, text(l))
		}
		if want := []string{"ksm-shard-0", "ksm-shard-1", "ksm-shard-2", "gap", "overlap"}; !slices.Equal(labels, want) {
			t.Errorf("%s: lane labels %q, want %q", res.Reducer, labels, want)
		}
		var agree []string
		for _, lane := range findAll(sec, element("g", "lane")) {
			agree = append(agree, segments(lane, "agree")...)
		}
		if want := []string{"0/2", "0/3", "1/2", "1/3", "2/3"}; !slices.Equal(agree, want) {
			t.Errorf("%s: agreeing segments %q, want %q", res.Reducer, agree, want)
		}
		if !strings.Contains(text(sec), "Static sharding: one lane per KSM pod of a Deployment") {
			t.Errorf("%s: the mode is not said", res.Reducer)
		}
	}

	for trace, want := range map[string]map[string]string{
		"duplicate-shard.json": {
			"ksm-shard-1": "conflict: ksm-shard-2 runs the same shard",
			"ksm-shard-2": "conflict: ksm-shard-1 runs the same shard",
		},
		"shard-out-of-range.json": {
			"ksm-shard-0": "conflict: ksm-shard-1 runs --total-shards=3",
			"ksm-shard-1": "conflict: ksm-shard-0 runs --total-shards=2",
			"ksm-shard-2": "shard 2 is out of the range of --total-shards=2: it keeps no object",
		},
	} {
		rep := replay(t, filepath.Join(traceDir, "static", trace))
		doc, err := html.Parse(bytes.NewReader(render(t, rep)))
		if err != nil {
			t.Fatal(err)
		}
		sec := section(t, doc, "field-selector")
		got := map[string]string{}
		for _, lane := range findAll(sec, element("g", "lane")) {
			name, _ := attr(lane, "data-lane")
			for _, g := range findAll(lane, element("g", "stale")) {
				got[name] = ownTitle(g)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: stale lanes %q, want those of %q", trace, got, want)
		}
		for name, w := range want {
			if !strings.Contains(got[name], w) || !strings.HasPrefix(got[name], name+", step 0: ") {
				t.Errorf("%s: %s's stale segment says %q, want %q", trace, name, got[name], w)
			}
		}
	}
}

// nodeRow returns the cells of the node view row of node ("" the
// unscheduled pods) in the table of the points starting at step.
func nodeRow(t *testing.T, sec *html.Node, points, node string) []*html.Node {
	t.Helper()
	for _, tab := range findAll(sec, element("table", "nodes")) {
		if v, _ := attr(tab, "data-points"); v != points && !strings.HasPrefix(v, points+"-") {
			continue
		}
		for _, tr := range findAll(tab, element("tr")) {
			if k, ok := attr(tr, "data-node"); ok && k == node {
				return findAll(tr, element("td"))
			}
		}
	}
	t.Fatalf("no node view row for node %q at %s", node, points)
	return nil
}

// TestNodeView2374: the page of traces/bugs/2374-node-name-with-dots.json
// shows, for the releases that strip --node (v2.11.0 to v2.13.0), the
// field selector each KSM pod really watches next to the node it runs on,
// marked as wrong in words, and the gap it leaves; v2.10.0 and v2.14.0
// select their nodes.
func TestNodeView2374(t *testing.T) {
	rep := replayWith(t, filepath.Join(traceDir, "bugs", "2374-node-name-with-dots.json"), nil)
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	const node = "ip-10-0-1-7.ec2.internal"
	for _, r := range []string{"v2.11.0", "v2.13.0"} {
		sec := section(t, doc, r)
		cells := nodeRow(t, sec, "init", node)
		if got := text(cells[0]); got != node {
			t.Errorf("%s: node cell %q", r, got)
		}
		if got := text(cells[3]); got != "--node="+node {
			t.Errorf("%s: flags cell %q", r, got)
		}
		sel := text(cells[4])
		for _, want := range []string{"spec.nodeName=ip-10-0-1-7ec2internal", "does not select node " + node, "want spec.nodeName=" + node} {
			if !strings.Contains(sel, want) {
				t.Errorf("%s: selector cell %q lacks %q", r, sel, want)
			}
		}
		if !hasClass(cells[4], "no") || !hasClass(cells[6], "no") || !strings.HasPrefix(text(cells[6]), "GAP: no KSM pod selects these 30 pods") {
			t.Errorf("%s: the wrong selector and the gap are not marked: %q", r, text(cells[6]))
		}
		if got := text(nodeRow(t, sec, "init", "worker-3")[4]); got != "spec.nodeName=worker-3" {
			t.Errorf("%s: worker-3's selector cell %q", r, got)
		}
		lanes := lanesByNode(t, sec)
		if got := segments(lanes[node], "stale"); !slices.Equal(got, []string{"wrong sel · 0"}) {
			t.Errorf("%s: lane %s shows %q, want the wrong selector", r, node, got)
		}
		if got := segments(lanes["worker-3"], "agree"); !slices.Equal(got, []string{"30 pods"}) {
			t.Errorf("%s: lane worker-3 shows %q", r, got)
		}
		if n := len(findAll(sec, element("table", "nodes"))); n != 2 {
			t.Errorf("%s: %d node view tables, want 2 (init, step 0: createPods)", r, n)
		}
	}
	for _, r := range []string{"v2.10.0", "v2.14.0"} {
		sec := section(t, doc, r)
		cells := nodeRow(t, sec, "init", node)
		if got := text(cells[4]); got != "spec.nodeName="+node || hasClass(cells[4], "no") {
			t.Errorf("%s: selector cell %q", r, got)
		}
		if got := text(cells[6]); got != "kube-state-metrics-1" {
			t.Errorf("%s: exported-by cell %q", r, got)
		}
		if n := len(findAll(sec, element("td", "no"))); n != 0 {
			t.Errorf("%s: %d cells marked wrong, want none", r, n)
		}
	}
}

// TestFailedInstance: in traces/bugs/2388-unscheduled-pods.json the
// unscheduled pods' Deployment runs --track-unscheduled-pods, which KSM
// before v2.14.0 does not know: its lane says "exited" with a marker that
// quotes the error, and the node view marks it; from v2.14.0 it exports
// the unscheduled pods.
func TestFailedInstance(t *testing.T) {
	rep := replayWith(t, filepath.Join(traceDir, "bugs", "2388-unscheduled-pods.json"), nil)
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	sec := section(t, doc, "v2.13.0")
	lane := lanesByNode(t, sec)[""]
	if lane == nil {
		t.Fatal("v2.13.0: no lane for the unscheduled pods' Deployment")
	}
	if got := text(findAll(lane, element("text", "lanelabel"))[0]); got != "(unscheduled)" {
		t.Errorf("v2.13.0: the Deployment's lane is labelled %q", got)
	}
	if got := segments(lane, "failed"); len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return s != "exited" }) {
		t.Errorf("v2.13.0: the Deployment's lane shows %q, want exited", got)
	}
	exits := 0
	for _, m := range findAll(lane, element("g", "marker")) {
		if len(findAll(m, element("g", "g-exit"))) > 0 {
			exits++
			if tt := ownTitle(m); !strings.Contains(tt, "unknown flag: --track-unscheduled-pods") || !strings.Contains(tt, "KSM exited at start-up") {
				t.Errorf("exit marker title:\n%s", tt)
			}
		}
	}
	if exits != 1 {
		t.Errorf("v2.13.0: %d exit markers, want 1", exits)
	}
	cells := nodeRow(t, sec, "init", "")
	if !hasClass(cells[2], "no") || !strings.Contains(text(cells[4]), "KSM exited at start (unknown flag: --track-unscheduled-pods)") {
		t.Errorf("v2.13.0: the unscheduled row does not mark the exited KSM pod: %q", text(cells[4]))
	}
	if got := text(cells[6]); !strings.HasPrefix(got, "GAP: no KSM pod selects these 6 pods") {
		t.Errorf("v2.13.0: the unscheduled row's exported-by cell %q", got)
	}

	sec = section(t, doc, "v2.14.0")
	lane = lanesByNode(t, sec)[""]
	if got := segments(lane, "failed"); len(got) != 0 {
		t.Errorf("v2.14.0: the Deployment's lane shows %q", got)
	}
	if got := segments(lane, "agree"); len(got) == 0 || got[0] != "6 pods" {
		t.Errorf("v2.14.0: the Deployment's lane shows %q, want 6 pods first", got)
	}
	if got := text(nodeRow(t, sec, "init", "")[4]); got != "spec.nodeName=" {
		t.Errorf("v2.14.0: the unscheduled row's selector %q", got)
	}
}

// TestTaintedNode: in traces/daemonset/taint-node.json node-b's KSM pod is
// evicted by a taint and comes back when it goes: its lane stops, says
// "tainted: none" in words, and starts again; the node view marks the
// node tainted and its pods a gap.
func TestTaintedNode(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "daemonset", "taint-node.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	sec := section(t, doc, "field-selector")
	lane := lanesByNode(t, sec)["node-b"]
	var got []string
	for _, g := range findAll(lane, element("g", "seg")) {
		got = append(got, text(findAll(g, element("text"))[0]))
	}
	if want := []string{"30 pods", "tainted: none", "30 pods"}; !slices.Equal(got, want) {
		t.Errorf("node-b's lane shows %q, want %q", got, want)
	}
	if got := segments(lane, "absent"); !slices.Equal(got, []string{"tainted: none"}) {
		t.Errorf("node-b's absent segments %q", got)
	}
	var marks []string
	for _, m := range findAll(lane, element("g", "marker")) {
		marks = append(marks, strings.SplitN(ownTitle(m), "\n", 2)[0])
	}
	if want := []string{"node node-b at the start: started", "node node-b during step 0 (taint): stopped", "node node-b during step 1 (untaint): started"}; !slices.Equal(marks, want) {
		t.Errorf("node-b's markers %q, want %q", marks, want)
	}
	cells := nodeRow(t, sec, "step 0", "node-b")
	if got := text(cells[0]); got != "node-b (tainted)" {
		t.Errorf("node-b's row at step 0 is named %q", got)
	}
	if got := text(cells[2]); got != "none: the taint evicted it" || !hasClass(cells[2], "no") {
		t.Errorf("node-b's KSM pod cell at step 0: %q", got)
	}
	if got := text(cells[6]); !strings.HasPrefix(got, "GAP") {
		t.Errorf("node-b's exported-by cell at step 0: %q", got)
	}
}

// TestMixedGroups: a mixed trace's timeline has two groups of lanes,
// headed by their resource, each with its gap and overlap bands: the
// relabel bug's overlap among the ConfigMaps, the unscheduled pods' gap
// among the pods.
func TestMixedGroups(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "daemonset", "mixed-relabel.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	sec := section(t, doc, "label-selector")
	svg := findAll(sec, element("svg"))[0]
	var order []string
	for _, n := range findAll(svg, func(n *html.Node) bool {
		return n.Data == "g" && (hasClass(n, "grouphead") || hasClass(n, "lane") || hasClass(n, "bandrow"))
	}) {
		switch {
		case hasClass(n, "grouphead"):
			order = append(order, "head:"+text(findAll(n, element("text"))[0]))
		case hasClass(n, "bandrow"):
			v, _ := attr(n, "data-band")
			order = append(order, "band:"+v)
		default:
			order = append(order, "lane:"+text(findAll(n, element("text", "lanelabel"))[0]))
		}
	}
	want := []string{
		"head:configmaps — autosharding", "lane:pod 0", "lane:pod 1", "lane:pod 2", "band:gap", "band:overlap",
		"head:pods — DaemonSet sharding", "lane:node-a", "lane:node-b", "lane:(unscheduled)", "band:pod-gap", "band:pod-overlap",
	}
	if !slices.Equal(order, want) {
		t.Errorf("timeline rows:\n%q\nwant\n%q", order, want)
	}
	band := func(key string) []string {
		var out []string
		for _, row := range findAll(svg, element("g", "bandrow")) {
			if v, _ := attr(row, "data-band"); v == key {
				for _, c := range findAll(row, element("g", "band")) {
					out = append(out, text(findAll(c, element("text"))[0]))
				}
			}
		}
		return out
	}
	if got := band("overlap"); !slices.Equal(got, []string{"0", "0", "overlap 172", "overlap 172"}) {
		t.Errorf("configmap overlap band %q", got)
	}
	if got := band("pod-gap"); !slices.Equal(got, []string{"gap 8", "gap 8", "gap 8", "0"}) {
		t.Errorf("pod gap band %q", got)
	}
	for _, row := range findAll(svg, element("g", "bandrow")) {
		if v, _ := attr(row, "data-band"); v == "pod-gap" {
			if tt := ownTitle(findAll(row, element("g", "gap"))[0]); !strings.Contains(tt, "8 of 80 pods are exported by no KSM pod") {
				t.Errorf("pod gap title:\n%s", tt)
			}
		}
	}
	if got := text(findAll(doc, element("p", "meta"))[0]); !strings.Contains(got, "500 objects · 80 pods") {
		t.Errorf("meta line %q", got)
	}
}

// TestNodeReportEscaping: names and errors in a DaemonSet sharding report
// (a report read back from JSON may hold anything) are escaped.
func TestNodeReportEscaping(t *testing.T) {
	evil := `<script>alert(1)</script>`
	nodes := &sim.NodeCheckpoint{
		Nodes:     []sim.NodeState{{Node: `<i>n"</i>`, Pods: 1}},
		Instances: []sim.NodeInstance{{Node: `<i>n"</i>`, Pod: evil, Flags: evil, Selector: `spec.nodeName=<b class=evil>`, Exported: 1}, {Pod: "u", Flags: "--track-unscheduled-pods", Failed: evil}},
		Pods:      1, Complete: true, Disjoint: true,
	}
	rep := &sim.Report{Trace: "evil", Schedule: "eager", Results: []*sim.Result{{
		Reducer: "field-selector", Mode: sim.ModeDaemonSet, Holds: true,
		Checkpoints: []sim.Checkpoint{{Step: -1, Op: "initial", Complete: true, Disjoint: true, Nodes: nodes}},
		Log:         []sim.LogEntry{{Step: -1, Kind: sim.LogStarted, Pod: -1, PodUID: "u", Event: evil, Outcome: "exited: " + evil}},
	}}}
	out := render(t, rep)
	for _, bad := range []string{"<script>", "<i>", "<b class=evil>"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("%s is not escaped", bad)
		}
	}
	checkSelfContained(t, out)
	checkSVGWellFormed(t, out)
}

// TestNodeViewTransient: under the explicit schedule
// (testdata/daemonset-explicit.json) the node view shows a KSM pod whose
// store lags the pods its selector selects, two KSM pods on one node
// (untainted before the eviction was delivered) and a KSM pod whose node
// is gone.
func TestNodeViewTransient(t *testing.T) {
	rep := replay(t, filepath.Join("testdata", "daemonset-explicit.json"))
	out := render(t, rep)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	checkSVGWellFormed(t, out)
	sec := section(t, doc, "field-selector")
	if n := len(findAll(sec, element("circle", "transient-violated"))) + len(findAll(sec, element("circle", "transient-holds"))); n != 6 {
		t.Errorf("%d transient checkpoint markers, want 6", n)
	}
	cells := nodeRow(t, sec, "step 0", "a")
	if got := text(cells[6]); got != "ksm-2, whose store holds 4" || !hasClass(cells[6], "no") {
		t.Errorf("node a at step 0: exported-by cell %q", got)
	}
	if got := segments(lanesByNode(t, sec)["b"], "stale"); !slices.Equal(got, []string{"4 pods + starting"}) {
		t.Errorf("node b's lane: stale segments %q, want two KSM pods at step 3", got)
	}
	var b []string
	for _, tab := range findAll(sec, element("table", "nodes")) {
		if v, _ := attr(tab, "data-points"); v != "step 3" {
			continue
		}
		for _, tr := range findAll(tab, element("tr", "node")) {
			if k, _ := attr(tr, "data-node"); k == "b" {
				b = append(b, text(findAll(tr, element("td"))[2]))
			}
		}
	}
	if !slices.Equal(b, []string{"ksm-3", "ksm-4"}) {
		t.Errorf("node b's rows at step 3 name KSM pods %q, want ksm-3 and ksm-4", b)
	}
	if got := text(nodeRow(t, sec, "step 4", "a")[0]); got != "a (deleted)" {
		t.Errorf("node a at step 4 is named %q", got)
	}
}

// TestStaticReplicaLanes: a Deployment of two replicas has two lanes, the
// second named "name#1"; both run shard 0, a conflict until the
// Deployment is scaled to one; the other Deployment's lane is one
// segment across the scale.
func TestStaticReplicaLanes(t *testing.T) {
	rep := replay(t, filepath.Join("testdata", "static-replicas.json"))
	doc, err := html.Parse(bytes.NewReader(render(t, rep)))
	if err != nil {
		t.Fatal(err)
	}
	sec := section(t, doc, "field-selector")
	var names, titles []string
	lanes := map[string]*html.Node{}
	for _, lane := range findAll(sec, element("g", "lane")) {
		name, _ := attr(lane, "data-lane")
		names = append(names, text(findAll(lane, element("text", "lanelabel"))[0]))
		titles = append(titles, ownTitle(lane))
		lanes[name] = lane
	}
	if want := []string{"ksm-a", "ksm-a#1", "ksm-b"}; !slices.Equal(names, want) {
		t.Errorf("lane labels %q, want %q", names, want)
	}
	if !strings.HasPrefix(titles[1], "Deployment ksm-a, replica slot 1 (lane 1)") {
		t.Errorf("lane ksm-a#1's title %q", titles[1])
	}
	if got := segments(lanes["ksm-a#1"], "stale"); !slices.Equal(got, []string{"0/2"}) {
		t.Errorf("ksm-a#1: stale segments %q", got)
	}
	if got := segments(lanes["ksm-a"], "agree"); !slices.Equal(got, []string{"0/2"}) {
		t.Errorf("ksm-a: agreeing segments %q (after the scale)", got)
	}
	if n := len(findAll(lanes["ksm-b"], element("g", "seg"))); n != 1 {
		t.Errorf("ksm-b: %d segments, want 1 across the scale", n)
	}
}

// TestStartFailureMarkers: in traces/podmanagement/start-fails-then-recovers.json
// pod 1's start-up GET fails twice after its restart: KSM exits and the
// kubelet restarts the container; its lane marks the exits, and the
// legend explains the marker.
func TestStartFailureMarkers(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "podmanagement", "start-fails-then-recovers.json"))
	out := render(t, rep)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("KSM exited at start-up</span>")) {
		t.Error("no legend entry for the exit marker")
	}
	for _, res := range rep.Results {
		sec := section(t, doc, res.Reducer)
		for _, lane := range findAll(sec, element("g", "lane")) {
			pod, _ := attr(lane, "data-pod")
			exits := 0
			for _, m := range findAll(lane, element("g", "marker")) {
				if len(findAll(m, element("g", "g-exit"))) > 0 {
					exits++
					if tt := ownTitle(m); !strings.Contains(tt, "during step 1 (restart)") || strings.Count(tt, "GET failed") != 2 || !strings.Contains(tt, "the kubelet restarts the container") {
						t.Errorf("%s: pod %s's exit marker title:\n%s", res.Reducer, pod, tt)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[pod == "1"]; exits != want {
				t.Errorf("%s: pod %s has %d exit markers, want %d", res.Reducer, pod, exits, want)
			}
		}
	}
}

// TestRandomModeTraces renders the reports of random static and DaemonSet
// sharding traces (the generators of package properties, misconfigured
// Deployments, dotted node names, every way to serve the unscheduled pods,
// both schedules) and checks each page as TestEveryTrace does.
func TestRandomModeTraces(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 12
	}
	releases := []string{"field-selector", "label-selector", "v2.10.0", "v2.13.0", "v2.14.0"}
	for seed := range uint64(n) {
		src := properties.NewRandSource(seed, 13)
		cfg := properties.ModeConfig{Reducer: releases[seed%uint64(len(releases))]}
		var b interface {
			Op(properties.Source) string
			Trace() *sim.Trace
			Close()
		}
		if seed%2 == 0 {
			cfg.Misconfigure = true
			b = properties.NewStaticBuilder(src, cfg)
		} else {
			cfg.Unscheduled, cfg.DottedNodes = properties.AnyUnscheduled, true
			b = properties.NewDaemonSetBuilder(src, cfg)
		}
		var ops []string
		for range 8 {
			ops = append(ops, b.Op(src))
		}
		tr := properties.CloneModeTrace(b.Trace())
		b.Close()
		r, ok := model.ReducerByName(cfg.Reducer)
		if !ok {
			t.Fatalf("no reducer %s", cfg.Reducer)
		}
		// The builder's reducer only: under the explicit schedule the
		// deliveries it drew may not exist for another release.
		rep, err := sim.Replay(tr, []model.Reducer{r}, sim.Options{})
		if err != nil {
			t.Fatalf("seed %d (%v): %v", seed, ops, err)
		}
		t.Run(fmt.Sprintf("seed-%d-%s", seed, rep.Results[0].Mode), func(t *testing.T) {
			checkReport(t, rep)
			if t.Failed() {
				t.Logf("ops %v", ops)
			}
		})
	}
}
