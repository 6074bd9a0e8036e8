package main

import (
	"bytes"
	"runtime"
	"slices"
)

// quiescent reports whether this process has nothing left to do until the
// API server sends it something: every goroutine but the caller is blocked
// (on a channel, a lock, a timer or network input), and no byte moved on
// any connection while that was checked. runtime.Stack stops the world, so
// the goroutine states are one consistent snapshot. It returns the first
// goroutine that was not blocked, for diagnostics, and the byte counts the
// simulator compares with its server's, for every open connection.
func quiescent(c *connCounter) (idle bool, busy string, conns []connStats) {
	before := c.snapshot()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	conns = c.snapshot()
	if !slices.Equal(before, conns) {
		return false, "connection I/O during the check", conns
	}
	self := true // the first goroutine in the dump is the caller
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if self {
			self = false
			continue
		}
		if state, ok := goroutineState(g); ok && !blocked(state) {
			line, _, _ := bytes.Cut(g, []byte("\n"))
			return false, string(line), conns
		}
	}
	return true, "", conns
}

// goroutineState returns the state in a dump header such as
// "goroutine 7 [chan receive, 3 minutes]:" ("chan receive").
func goroutineState(g []byte) (string, bool) {
	open := bytes.IndexByte(g, '[')
	end := bytes.IndexByte(g, ']')
	if !bytes.HasPrefix(g, []byte("goroutine ")) || open < 0 || end < open {
		return "", false
	}
	state := g[open+1 : end]
	if i := bytes.IndexByte(state, ','); i >= 0 {
		state = state[:i]
	}
	return string(state), true
}

// blocked reports whether a goroutine in this state waits for something
// outside itself. Running, runnable, in a system call or preempted are the
// states of a goroutine with work in hand.
func blocked(state string) bool {
	switch state {
	case "running", "runnable", "syscall", "preempted", "copystack":
		return false
	}
	return true
}
