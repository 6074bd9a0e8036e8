// Package atomicfile writes files so that a reader sees either the old
// content or all of the new, never part of it, and so that an existing
// file is replaced only when asked to. Every file simrun writes (traces
// from hunt, check and import, HTML reports) goes through Write.
package atomicfile
