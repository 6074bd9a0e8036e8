package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// TestBackingOffRealReflector runs a real client-go reflector whose watch
// ends at once ("very short watch"): it then waits on its backoff before
// relisting, and backingOff must see it, while a long ticker and a
// wait.Until whose function blocks stay idle.
func TestBackingOffRealReflector(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	watched := make(chan struct{}, 10)
	lw := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (kruntime.Object, error) {
			return &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
		},
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) {
			w := watch.NewFake()
			w.Stop() // closes the result channel: a very short watch
			watched <- struct{}{}
			return w, nil
		},
	}
	r := cache.NewReflector(lw, &corev1.ConfigMap{}, cache.NewStore(cache.MetaNamespaceKeyFunc), 0)
	go r.Run(stop)
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	go func() {
		select {
		case <-ticker.C:
		case <-stop:
		}
	}()
	go wait.Until(func() { <-stop }, time.Second, stop)

	select {
	case <-watched:
	case <-time.After(30 * time.Second):
		t.Fatal("the reflector never watched") // failure guard only
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		found, others := scan()
		if len(others) > 0 {
			t.Fatalf("goroutines taken for backing off that are not:\n%s", strings.Join(others, "\n\n"))
		}
		if found != "" {
			t.Logf("found: %s", found)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no reflector seen backing off within 30 s") // failure guard only
		}
		runtime.Gosched()
	}
}

// scan returns the first goroutine backingOff sees as a reflector's and
// every other goroutine it flags (none expected).
func scan() (found string, others []string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		state, ok := goroutineState(g)
		if !ok {
			continue
		}
		if f, ok := backingOff(state, g); ok {
			if strings.Contains(string(g), "(*Reflector).Run") {
				found = f
			} else {
				others = append(others, string(g))
			}
		}
	}
	return found, others
}

// TestBackingOff: the frames of each client-go's backoff waits, and
// look-alikes that are not.
func TestBackingOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump string
		want bool
	}{
		{"v0.30 Run between ListAndWatch calls", `goroutine 41 [select]:
k8s.io/apimachinery/pkg/util/wait.BackoffUntil(0xc000281f28, {0x1d3c0a0, 0xc0003c2000}, 0x1, 0xc0000a0240)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/backoff.go:227 +0x109
k8s.io/client-go/tools/cache.(*Reflector).Run(0xc0002c2000, 0xc0000a0240)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:297 +0x1b1
created by k8s.io/kube-state-metrics/v2/internal/store.(*Builder).startReflector in goroutine 40
	/go/pkg/mod/k8s.io/kube-state-metrics/v2@v2.13.0/internal/store/builder.go:607 +0x2a5`, true},
		{"v0.35 Run via BackoffUntilWithContext", `goroutine 41 [select, 2 minutes]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/usr/local/go/src/runtime/proc.go:435 +0xce
runtime.selectgo(0xc0000c5f00, 0xc0000c5e9c, 0x0?, 0x0, 0x0?, 0x1)
	/usr/local/go/src/runtime/select.go:351 +0x837
k8s.io/apimachinery/pkg/util/wait.BackoffUntilWithContext(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.35.4/pkg/util/wait/backoff.go:267 +0x131
k8s.io/apimachinery/pkg/util/wait.BackoffUntil(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.35.4/pkg/util/wait/backoff.go:233
k8s.io/client-go/tools/cache.(*Reflector).RunWithContext(0xc0002c2000, {0x1d3c0a0, 0xc0003c2000})
	/go/pkg/mod/k8s.io/client-go@v0.35.4/tools/cache/reflector.go:368 +0x1b1
k8s.io/client-go/tools/cache.(*Reflector).Run(...)
	/go/pkg/mod/k8s.io/client-go@v0.35.4/tools/cache/reflector.go:359`, true},
		{"v0.36 Run via DelayFunc.Until", `goroutine 41 [select]:
k8s.io/apimachinery/pkg/util/wait.loopConditionUntilContext({0x1d3c0a0, 0xc0003c2000}, {0x1d3c1e0, 0xc00040a000}, 0x1, 0x1, 0xc000281e00)
	/go/pkg/mod/k8s.io/apimachinery@v0.36.3/pkg/util/wait/loop.go:66 +0x1b5
k8s.io/apimachinery/pkg/util/wait.DelayFunc.Until(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.36.3/pkg/util/wait/backoff.go:106
k8s.io/client-go/tools/cache.(*Reflector).RunWithContext(0xc0002c2000, {0x1d3c0a0, 0xc0003c2000})
	/go/pkg/mod/k8s.io/client-go@v0.36.3/tools/cache/reflector.go:428 +0x1b1`, true},
		{"watch backing off after a refused connection", `goroutine 52 [select]:
k8s.io/client-go/tools/cache.(*Reflector).watch(0xc0002c2000, {0x0, 0x0}, 0xc0000a0240, 0xc0003c4000)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:434 +0x3a5
k8s.io/client-go/tools/cache.(*Reflector).ListAndWatch(0xc0002c2000, 0xc0000a0240)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:368 +0x1b1`, true},
		{"watch list backing off", `goroutine 52 [chan receive]:
k8s.io/client-go/tools/cache.(*Reflector).watchList.func1(...)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:616
k8s.io/client-go/tools/cache.(*Reflector).watchList(0xc0002c2000, 0xc0000a0240)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:663 +0x3a5`, true},
		{"reflector watching: its watch handler waits for events", `goroutine 52 [select]:
k8s.io/client-go/tools/cache.watchHandler({0x0?, 0x0?, 0x0?}, {0x1d3c0a0, 0xc0003c2000}, {0x1d3c1e0, 0xc00040a000}, {0x1d3c0a0, 0xc0003c2000}, 0x0, {0xc0003a6000, 0x2d}, {0xc0003a6030, 0x13}, 0xc0003c2120, 0x0, {0x1d3c0a0, 0xc0003c2000}, ...)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:731 +0x1b5
k8s.io/client-go/tools/cache.(*Reflector).watch(0xc0002c2000, {0x0, 0x0}, 0xc0000a0240, 0xc0003c4000)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/reflector.go:466 +0x3a5`, false},
		{"informer processLoop restarted by wait.Until after it stopped", `goroutine 60 [select]:
k8s.io/apimachinery/pkg/util/wait.BackoffUntil(0xc000281f28, {0x1d3c0a0, 0xc0003c2000}, 0x1, 0xc0000a0240)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/backoff.go:227 +0x109
k8s.io/apimachinery/pkg/util/wait.JitterUntil(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/backoff.go:204
k8s.io/apimachinery/pkg/util/wait.Until(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/backoff.go:161
k8s.io/client-go/tools/cache.(*controller).Run(0xc0002c4000, 0xc0000a0240)
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/controller.go:159 +0x2a5`, false},
		{"klog's flush daemon", `goroutine 5 [select]:
k8s.io/klog/v2.(*flushDaemon).run.func1()
	/go/pkg/mod/k8s.io/klog/v2@v2.130.1/klog.go:1141 +0x117
created by k8s.io/klog/v2.(*flushDaemon).run in goroutine 1
	/go/pkg/mod/k8s.io/klog/v2@v2.130.1/klog.go:1137 +0x171`, false},
		{"cache sync poll", `goroutine 70 [select]:
k8s.io/apimachinery/pkg/util/wait.loopConditionUntilContext({0x1d3c0a0, 0xc0003c2000}, {0x1d3c1e0, 0xc00040a000}, 0x1, 0x0, 0xc000281e00)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/loop.go:74 +0x1b5
k8s.io/apimachinery/pkg/util/wait.PollImmediateUntil(...)
	/go/pkg/mod/k8s.io/apimachinery@v0.30.3/pkg/util/wait/poll.go:222
k8s.io/client-go/tools/cache.WaitForCacheSync(0xc0000a0240, {0xc000281f20, 0x1, 0x1})
	/go/pkg/mod/k8s.io/client-go@v0.30.3/tools/cache/shared_informer.go:326 +0x8c`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, ok := goroutineState([]byte(tc.dump))
			if !ok {
				t.Fatal("no goroutine header")
			}
			f, got := backingOff(state, []byte(tc.dump))
			if got != tc.want {
				t.Errorf("backingOff = %v (%q), want %v", got, f, tc.want)
			}
		})
	}
}
