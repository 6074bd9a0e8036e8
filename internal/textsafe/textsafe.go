// Package textsafe makes untrusted strings safe to print on a terminal and
// short enough to echo in an error message, and names the byte-order mark
// or UTF-16 encoding a JSON input may start with.
//
// Trace names, descriptions, label keys and values and UIDs come from
// files anyone may hand to simrun: printed raw, an ESC sequence in a trace
// name could clear the screen and print a fake verdict.
package textsafe

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxEcho is how many bytes of a value an error message repeats.
const MaxEcho = 80

// Printable reports whether s is valid UTF-8 made only of printable runes
// (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space), which a terminal shows as they are.
func Printable(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Text returns s unchanged when it is printable, and otherwise s as a Go
// quoted string (strconv.Quote: control characters, newlines, invalid
// UTF-8 and invisible format characters such as bidi overrides become
// escapes such as \x1b, \n or \u202e; printable UTF-8 stays as it is).
func Text(s string) string {
	if Printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// Cap returns s cut to at most max bytes (at a rune boundary) followed by
// "…(N bytes)" naming its full length, or s itself when it is short
// enough.
func Cap(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return prefix(s, max) + fmt.Sprintf("…(%d bytes)", len(s))
}

// prefix is s cut to at most max bytes at a rune boundary.
func prefix(s string, max int) string {
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Quote is %q for a value echoed in an error message: capped at MaxEcho
// bytes, quoted and escaped. A long value gives "aaaa…"(10485760 bytes).
func Quote(s string) string {
	if len(s) <= MaxEcho {
		return strconv.Quote(s)
	}
	return strconv.Quote(prefix(s, MaxEcho)+"…") + fmt.Sprintf("(%d bytes)", len(s))
}

// Bare is Text for a value echoed in an error message without quotes (a
// field name): capped at MaxEcho bytes and escaped when not printable.
func Bare(s string) string {
	if len(s) <= MaxEcho {
		return Text(s)
	}
	return Text(prefix(s, MaxEcho)+"…") + fmt.Sprintf("(%d bytes)", len(s))
}

// Encoding names the encoding of data when it is not plain UTF-8 JSON
// text: a UTF-8 byte-order mark (bom is its length, 3, and name is empty:
// the caller may skip it), or UTF-16 or UTF-32, with or without a
// byte-order mark (name says which; unsupported). It returns 0, "" for
// anything else.
func Encoding(data []byte) (bom int, name string) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return 3, ""
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return 4, "UTF-32 (big-endian, with a byte-order mark)"
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return 4, "UTF-32 (little-endian, with a byte-order mark)"
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return 2, "UTF-16 (big-endian, with a byte-order mark)"
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return 2, "UTF-16 (little-endian, with a byte-order mark)"
	}
	// JSON text starts with an ASCII character; in UTF-16 or UTF-32
	// without a byte-order mark it comes with NUL bytes (RFC 4627 §3).
	if len(data) >= 4 {
		switch {
		case data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] != 0:
			return 0, "UTF-32 (big-endian)"
		case data[0] != 0 && data[1] == 0 && data[2] == 0 && data[3] == 0:
			return 0, "UTF-32 (little-endian)"
		case data[0] == 0 && data[1] != 0 && data[2] == 0 && data[3] != 0:
			return 0, "UTF-16 (big-endian)"
		case data[0] != 0 && data[1] == 0 && data[2] != 0 && data[3] == 0:
			return 0, "UTF-16 (little-endian)"
		}
	}
	return 0, ""
}

// EncodingMsg is the message for an input Encoding names: it is encoded
// as name, which simrun does not read.
func EncodingMsg(name string) string {
	return "the file is encoded as " + name + ", not UTF-8: save it as UTF-8 (for example: iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8)"
}
