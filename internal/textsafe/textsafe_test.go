package textsafe

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"relabel", "relabel"},
		{"scale 2 -> 3: ünïcödé, 名前, ✓", "scale 2 -> 3: ünïcödé, 名前, ✓"},
		{"", ""},
		{"\x1b[2Jverdict: holds", `"\x1b[2Jverdict: holds"`},
		{"a\nb", `"a\nb"`},
		{"bell\a nul\x00 cr\r del\x7f", `"bell\a nul\x00 cr\r del\x7f"`},
		{"tab\t", `"tab\t"`},
		{"bidi\u202e", `"bidi\u202e"`},
		{"c1\u009b", `"c1\u009b"`},
		{"bad\xff", `"bad\xff"`},
		{"\ufffd is printable", "\ufffd is printable"},
		{`quote " and \ stay`, `quote " and \ stay`},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCapAndQuote(t *testing.T) {
	long := strings.Repeat("v", 10<<20)
	for _, tc := range []struct{ got, want string }{
		{Cap("short", 10), "short"},
		{Cap("exactly10!", 10), "exactly10!"},
		{Cap("0123456789abc", 10), "0123456789…(13 bytes)"},
		{Cap("ééééé", 3), "é…(10 bytes)"}, // never cuts a rune
		{Quote("x"), `"x"`},
		{Quote("a\x1bb"), `"a\x1bb"`},
		{Quote(long), `"` + strings.Repeat("v", MaxEcho) + `…"(10485760 bytes)`},
		{Quote(strings.Repeat("\x1b", 100)), `"` + strings.Repeat(`\x1b`, MaxEcho) + `…"(100 bytes)`},
		{Bare("field"), "field"},
		{Bare(long), strings.Repeat("v", MaxEcho) + "…(10485760 bytes)"},
		{Bare("a\nb"), `"a\nb"`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %.200s, want %.200s", tc.got, tc.want)
		}
	}
}

func TestEncoding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		bom  int
		name string
	}{
		{`{"name": "x"}`, 0, ""},
		{"", 0, ""},
		{"{}", 0, ""},
		{"\xef\xbb\xbf{}", 3, ""},
		{"\xff\xfe{\x00}\x00", 2, "UTF-16 (little-endian, with a byte-order mark)"},
		{"\xfe\xff\x00{\x00}", 2, "UTF-16 (big-endian, with a byte-order mark)"},
		{"\xff\xfe\x00\x00{\x00\x00\x00", 4, "UTF-32 (little-endian, with a byte-order mark)"},
		{"\x00\x00\xfe\xff\x00\x00\x00{", 4, "UTF-32 (big-endian, with a byte-order mark)"},
		{"{\x00\"\x00", 0, "UTF-16 (little-endian)"},
		{"\x00{\x00\"", 0, "UTF-16 (big-endian)"},
		{"{\x00\x00\x00", 0, "UTF-32 (little-endian)"},
		{"\x00\x00\x00{", 0, "UTF-32 (big-endian)"},
		{"\x00\x00\x00\x00", 0, ""}, // NULs: not JSON, left to the parser
	} {
		bom, name := Encoding([]byte(tc.in))
		if bom != tc.bom || name != tc.name {
			t.Errorf("Encoding(%q) = %d, %q, want %d, %q", tc.in, bom, name, tc.bom, tc.name)
		}
	}
}
