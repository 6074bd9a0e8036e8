package main

import (
	"bytes"
	"runtime"
	"slices"
	"strings"
)

// quiescent reports whether this process has nothing left to do until the
// API server sends it something: every goroutine but the caller is blocked
// (on a channel, a lock, a timer or network input) and none is a reflector
// sitting out its backoff (backingOff), and no byte moved on any
// connection while that was checked. runtime.Stack stops the world, so
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
		state, ok := goroutineState(g)
		if !ok {
			continue
		}
		if !blocked(state) {
			line, _, _ := bytes.Cut(g, []byte("\n"))
			return false, string(line), conns
		}
		if f, ok := backingOff(state, g); ok {
			return false, "a client-go reflector backing off before it relists or re-watches: " + f, conns
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

// backingOff reports whether a blocked goroutine is a client-go reflector
// sitting out its backoff, and where: it waits on a timer, and when the
// timer fires it lists or watches again. Such a goroutine has work due, so
// the process is not quiescent; settle keeps polling until the reflector
// has sent its request (about a second of wall clock after a first 410).
//
// The rule names the only two places a reflector waits on its backoff, in
// every client-go from v0.27 (KSM v2.10.0) to v0.36 (v2.20.0),
// tools/cache/reflector.go:
//
//   - between two ListAndWatch calls: Run (RunWithContext) loops with
//     wait.BackoffUntil (up to v0.35) or its backoff's DelayFunc.Until
//     (v0.36, wait.loopConditionUntilContext), which after ListAndWatch
//     returns waits in a select on the backoff timer (800 ms doubling to
//     30 s, with jitter). ListAndWatch returns after a watch ended with an
//     error: an ERROR event (410 Gone after a compaction), a "very short
//     watch" (closed within a second having received nothing), or a failed
//     list. So: a goroutine in select whose first frame is one of those
//     wait loops, called by (*Reflector).Run or RunWithContext. Other
//     wait.Until loops (an informer's processLoop, its listeners) wait there
//     only once stopped, and long-period tickers (klog's flush daemon) have
//     frames of their own: they stay idle;
//   - inside (*Reflector).watch and (*Reflector).watchList (and its
//     closure), whose only blocking receives are on the backoff, after a
//     watch request refused with "connection refused" or 429.
//
// Timers a reflector does not act on stay idle: the resync timer (period 0
// in KSM: it never fires), the watch list's 10 s warning ticker, and the
// watch's timeoutSeconds (5 to 10 minutes, passed to the API server,
// which the simulator's server does not enforce).
func backingOff(state string, g []byte) (string, bool) {
	if state != "select" && state != "chan receive" {
		return "", false
	}
	frames := functions(g)
	if len(frames) == 0 {
		return "", false
	}
	first := frames[0]
	if first == reflector+"watch" || strings.HasPrefix(first, reflector+"watchList") {
		return first, true
	}
	if state != "select" || !strings.HasPrefix(first, waitPkg) {
		return "", false
	}
	for _, f := range frames[1:] {
		if strings.HasPrefix(f, waitPkg) {
			continue
		}
		if f == reflector+"Run" || f == reflector+"RunWithContext" {
			return first + " in " + f, true
		}
		return "", false
	}
	return "", false
}

const (
	reflector = "k8s.io/client-go/tools/cache.(*Reflector)."
	waitPkg   = "k8s.io/apimachinery/pkg/util/wait."
)

// functions returns the functions of a goroutine's stack dump, innermost
// first, without the runtime's own frames: "pkg.F" of every
// "pkg.F(args)" line.
func functions(g []byte) []string {
	var out []string
	for _, line := range strings.Split(string(g), "\n")[1:] {
		if line == "" || line[0] == '\t' || strings.HasPrefix(line, "created by ") {
			continue
		}
		if i := strings.LastIndexByte(line, '('); i > 0 {
			line = line[:i]
		}
		if strings.HasPrefix(line, "runtime.") {
			continue
		}
		out = append(out, line)
	}
	return out
}
