package importer_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/importer"
)

// repeat reads like /dev/zero, or like yes(1): the same bytes forever,
// counting them.
type repeat struct {
	b []byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b[int(r.n+int64(i))%len(r.b)]
	}
	r.n += int64(len(p))
	return len(p), nil
}

// TestStreamInput covers what a watch stream may hold besides watch events
// (issue 9): endless or oversized input stops at a documented limit
// having read about that much, a byte-order mark is skipped or its
// encoding named, and values the stream puts in a message are escaped and
// capped.
func TestStreamInput(t *testing.T) {
	valid := newStream().add("ADDED", nil).add("MODIFIED", replicas(3)).buf.String()
	for _, tc := range []struct {
		name     string
		in       io.Reader
		event    int
		line     int
		substr   []string
		maxRead  int64  // with a *repeat input: at most this many bytes read
		wantStep string // "": an error is expected; else the steps of the trace
	}{
		{
			name: "/dev/zero", in: &repeat{b: []byte{0}}, event: 1, line: 1, maxRead: 1 << 20,
			substr: []string{"malformed JSON at line 1, column 1", `invalid character '\x00'`, "YAML and table output are not supported"},
		},
		{
			name: "endless object", in: &repeat{b: []byte(`{"a": [`)}, event: 1, line: 1, maxRead: importer.MaxEventBytes + 1<<20,
			substr: []string{"event 1 (line 1): the event is larger than the limit of 4 MiB for one watch event"},
		},
		{
			name: "endless string", in: io.MultiReader(strings.NewReader(valid+`{"type": "`), &repeat{b: []byte("x")}), event: 3,
			maxRead: importer.MaxEventBytes + 1<<20, substr: []string{"event 3 (line ", "limit of 4 MiB for one watch event"},
		},
		{
			name: "endless number", in: &repeat{b: []byte("1")}, event: 1, maxRead: 1 << 20,
			substr: []string{"expected a JSON object (a watch event", "got a number"},
		},
		{
			name: "yes", in: &repeat{b: []byte("y\n")}, event: 1, line: 1, maxRead: 1 << 20,
			substr: []string{"malformed JSON at line 1, column 1: invalid character 'y'"},
		},
		{
			name: "UTF-8 byte-order mark", in: strings.NewReader("\xef\xbb\xbf" + valid), wantStep: "scale 3",
		},
		{
			name: "UTF-16 LE with BOM", in: strings.NewReader("\xff\xfe{\x00\"\x00"),
			substr: []string{"w.json: the file is encoded as UTF-16 (little-endian, with a byte-order mark), not UTF-8: save it as UTF-8"},
		},
		{
			name: "UTF-16 BE (PowerShell >)", in: strings.NewReader("\x00{\x00\"\x00t"),
			substr: []string{"encoded as UTF-16 (big-endian), not UTF-8"},
		},
		{
			name: "ESC in the event type", in: strings.NewReader(`{"type": "\u001b[2J\u001b[Hverdict: holds", "object": {}}`), event: 1,
			substr: []string{`unknown watch event type "\x1b[2J\x1b[Hverdict: holds"`},
		},
		{
			name: "1 MB event type", in: strings.NewReader(`{"type": "` + strings.Repeat("T", 1<<20) + `", "object": {}}`), event: 1,
			substr: []string{`unknown watch event type "TTTT`, `…"(1048576 bytes)`},
		},
		{
			name: "control characters in a StatefulSet name",
			in: strings.NewReader(newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) {
				ss.Name = "evil\x1b]0;x\a\n"
			}).buf.String()),
			event: 2, substr: []string{`"monitoring/evil\x1b]0;x\a\n"`},
		},
		{
			// Found by FuzzImport: types.UID is not a string to a type switch.
			name: "DEL in a StatefulSet uid",
			in: strings.NewReader(newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) {
				ss.UID = "uid-\x7f\x1b[2J"
			}).buf.String()),
			event: 2, substr: []string{`has a new uid ("uid-\x7f\x1b[2J", was uid-1)`},
		},
		{
			name: "1 MB watch error message", in: strings.NewReader(`{"type": "ERROR", "object": {"message": "` + strings.Repeat("m", 1<<20) + `\u0007"}}`), event: 1,
			substr: []string{`the watch reported an error: "mmm`, `…"(1048577 bytes)`},
		},
		{
			name: "stray comma between events", in: strings.NewReader(valid + ",\n" + valid), event: 3,
			substr: []string{"malformed JSON at line", "invalid character ','"},
		},
		{
			name: "syntax error on a later line of an event", in: strings.NewReader(valid + "{\n  \"type\": \"MODIFIED\",\n  \"object\": {,}}\n"), event: 3,
			substr: []string{"malformed JSON at line " + itoa(strings.Count(valid, "\n")+3) + ", column 14: invalid character ','"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importer.Import(tc.in, opts())
			if r, ok := tc.in.(*repeat); ok && tc.maxRead > 0 && r.n > tc.maxRead {
				t.Errorf("read %d bytes, want at most %d", r.n, tc.maxRead)
			}
			if tc.wantStep != "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(stepsOf(t, res), ", "); got != tc.wantStep {
					t.Errorf("steps %s, want %s", got, tc.wantStep)
				}
				return
			}
			var ie *importer.Error
			if !errors.As(err, &ie) {
				t.Fatalf("Import = %v, want an *importer.Error", err)
			}
			msg := err.Error()
			if ie.Event != tc.event || (tc.line != 0 && ie.Line != tc.line) {
				t.Errorf("event %d line %d, want event %d line %d: %s", ie.Event, ie.Line, tc.event, tc.line, msg)
			}
			if !strings.HasPrefix(msg, "w.json: ") {
				t.Errorf("error does not name the file: %.300s", msg)
			}
			for _, s := range tc.substr {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%.400s", s, msg)
				}
			}
			if len(msg) > 1000 {
				t.Errorf("message of %d bytes: %.300s…", len(msg), msg)
			}
			for _, r := range msg {
				if r < 0x20 || r == 0x7f {
					t.Errorf("raw control character %q in %q", r, msg)
					break
				}
			}
		})
	}
}

// TestDevZero: the file simrun import --statefulset-watch /dev/zero reads.
func TestDevZero(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip("no /dev/zero:", err)
	}
	defer f.Close()
	_, err = importer.Import(f, importer.Options{Source: "/dev/zero", Objects: 10})
	if err == nil || !strings.HasPrefix(err.Error(), "/dev/zero: event 1 (line 1): malformed JSON at line 1, column 1") {
		t.Errorf("Import(/dev/zero) = %v", err)
	}
}

// TestStreamLimit: a stream of valid events, or of whitespace, that never
// ends stops at the stream limit (lowered here to 1 MiB from
// MaxStreamBytes), naming it; memory holds one event at a time meanwhile.
func TestStreamLimit(t *testing.T) {
	defer importer.SetLimits(importer.MaxEventBytes, 1<<20)()
	event := newStream().add("ADDED", nil).buf.Bytes()
	for _, tc := range []struct {
		name string
		in   *repeat
	}{
		{"the same event forever", &repeat{b: event}},
		{"whitespace forever", &repeat{b: []byte(" \n\t")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.Import(tc.in, opts())
			if err == nil || !strings.Contains(err.Error(), "the stream is larger than the limit of 1 MiB: reading stopped there") {
				t.Fatalf("Import = %v", err)
			}
			if tc.in.n > 1<<20+128<<10 {
				t.Errorf("read %d bytes, want about 1 MiB", tc.in.n)
			}
		})
	}
}
