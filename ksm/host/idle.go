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
	if c.dialing.Load() > 0 {
		return false, "opening a connection", nil
	}
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
	if !slices.Equal(before, conns) || c.dialing.Load() > 0 {
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
// only another goroutine, the network or a timer can give it. Every other
// state (running, runnable, in a system call, preempted, assisting or
// waiting for the garbage collector, whose workers the dump does not show,
// on one of the runtime's own semaphores, and any state this list does not
// know) is a goroutine with work in hand. Found the hard way: a goroutine
// writing a request, caught in "semacquire" while a GC cycle started,
// looked idle.
func blocked(state string) bool {
	return waitingStates[state]
}

// waitingStates are the runtime's wait reasons (runtime/runtime2.go,
// waitReasonStrings) of a goroutine that cannot proceed by itself.
var waitingStates = map[string]bool{
	"chan receive":            true,
	"chan send":               true,
	"chan receive (nil chan)": true,
	"chan send (nil chan)":    true,
	"select":                  true,
	"select (no cases)":       true,
	"IO wait":                 true,
	"sleep":                   true,
	"semacquire":              false, // Go 1.26: the runtime's own semaphores (a GC starting, sync.Pool); the sync types have their own reasons
	"sync.Cond.Wait":          true,
	"sync.Mutex.Lock":         true,
	"sync.RWMutex.RLock":      true,
	"sync.RWMutex.Lock":       true,
	"sync.WaitGroup.Wait":     true,
	"finalizer wait":          true,
	"force gc (idle)":         true,
	"GC worker (idle)":        true,
	"GC sweep wait":           true,
	"GC scavenge wait":        true,
	"cleanup wait":            true,
	"timer goroutine (idle)":  true,
	"trace reader (blocked)":  true,
	"GC weak to strong wait":  true,
	"chan receive (synctest)": false,
	"garbage collection":      false,
	"GC assist wait":          false,
	"GC assist marking":       false,
	"wait for GC cycle":       false,
	"stopping the world":      false,
	"flushing proc caches":    false,
	"preempted":               false,
	"debug call":              false,
}
