// Package clientgo runs the simulated kube-state-metrics pods on real
// k8s.io/client-go machinery: it is the "client-go" sim.Backend, the
// second implementation the pure model is differential-tested against.
//
// What is real and what is transcribed: the client-go code is the real
// thing (the fake clientset, cache.SharedIndexInformer, its reflector,
// store and handler dispatch, at the version in go.mod). KSM's code is
// not: the start-up and the event handlers below are this package's
// transcriptions of KSM's pkg/metricshandler (detectStatefulSet, the
// informer's ListOptions tweak, AddFunc and UpdateFunc), written to follow
// it, not imported from it. The only KSM code the tests run is
// pkg/sharding, in the conformance module.
//
// # What a pod does
//
// Each pod incarnation does what KSM's MetricsHandler does, transcribed,
// against a k8s.io/client-go/kubernetes/fake clientset shared by the
// replay:
//
//   - Got: a transcription of detectStatefulSet, with real client-go
//     calls: GET its own Pod (NewPod created it with a controller owner
//     reference to the StatefulSet), follow the reference, GET the
//     StatefulSet; the reducer builds the informer's ListOptions from it.
//   - Listed: start a cache.SharedIndexInformer on StatefulSets in the
//     pod's namespace whose ListWatch applies those options (a
//     transcription of KSM's NewFilteredListWatchFromClient tweak). Its
//     handlers transcribe KSM's AddFunc and UpdateFunc (other names
//     ignored, an update with an unchanged resourceVersion ignored, an
//     unchanged (shard, total) ignored, model.ShardingSettings for the
//     rest); there is no DeleteFunc.
//   - Watched: hand the informer's watch the next event and wait until the
//     informer has passed it to a handler (OnDelete included, which only
//     reports: KSM has none).
//   - Stop: cancel the informer and the objects reflector (below) and wait
//     for both to return.
//
// A pod of a statically sharded Deployment (sim.FlagsBackend:
// NewPodWithFlags with --shard and --total-shards, no --pod) has a Pod
// object with no owner reference and no StatefulSet informer: Started is
// MetricsHandler.Run without autosharding ("Autosharding disabled"), which
// configures the pod from its own flags at once; its data plane then runs
// as any pod's. DaemonSet sharding (--node, --track-unscheduled-pods) is
// refused with errors.ErrUnsupported.
//
// # The data plane
//
// Each pod is also a sim.ObjectsRunner: its objects store (the ConfigMaps
// it exports) is a real cache store filled by a real cache.Reflector
// (cache.NewReflectorWithOptions) over a transcription of KSM v2.13.0's
// sharded ListWatch (pkg/sharding: List keeps the items whose UID the
// shard owns, model.Keeps, and copies only the ResourceVersion, dropping
// the continue token; Watch passes the events of the objects it owns;
// shard 0 of 1 is the plain ListWatch), over a held ListerWatcher:
//
//   - ConfigureSharding stops the previous reflector (cancel, wait for Run
//     to return) and starts one over an empty store; it returns when the
//     first LIST has arrived, and checks it is model.NewReflector's.
//   - DeliverObjects answers the LIST in flight with the simulator's page
//     (a ConfigMapList named by UID, with its resourceVersion and continue
//     token, or a 410 Expired StatusError), feeds a write to the open
//     watch as one ADDED or DELETED event per UID, or ends the watch
//     (closed, or one ERROR event with a 410 Expired Status first). It
//     returns once the reflector has handled the item: after a LIST answer
//     or a watch end when the reflector's next request (the next page, a
//     retry, the full list, the WATCH, a relist) has arrived; after a
//     write when the store has applied every event the shard keeps. It
//     returns that request and the store's UIDs, which the simulator
//     compares with model.Reflector's.
//
// The sharded watch filters synchronously (KSM's uses watch.Filter, whose
// goroutine would hide when an event is handled), and the watch's result
// channel is unbuffered, so a fed event is one the reflector has received.
//
// Quirks of the v0.37 reflector handled there: it is told the ListerWatcher
// does not support WatchList semantics (IsWatchListSemanticsUnSupported),
// so it does LIST then WATCH as the model's v0.29/v0.30 one; it runs on a
// fake clock, stepped past one second before a watch is closed, because a
// watch that ends within a second with no event is a VeryShortWatchError
// (a relist) and the model follows long-lived watches; its backoff between
// ListAndWatch calls (after a watch's 410, or a failed list) is zero,
// because wait.DelayFunc.Until waits on the real clock, not the
// reflector's; and its pager's page size is the constant 500, which
// request reports as the trace's cluster.pageSize, the page size the
// simulator scales it down to.
//
// Check (sim.TraceChecker) accepts any cluster.apiServer and pageSize, the
// compact op and "dataPlane": "explicit", since the simulator answers
// every objects request; it refuses disconnect and cacheLag, whose
// StatefulSet side (the informer's re-watch and relist, its lagged LIST)
// the held StatefulSet API does not model. A static trace has no such
// side: it replays with cacheLag; disconnect is refused there for another
// reason (a watch from resourceVersion 0: see Check).
//
// client-go alone decides whether an event reaches AddFunc or UpdateFunc
// (its store held the object or not) and what its store holds; the model
// decides the same with model.Step. The tests compare the two on every
// trace under traces/ and on random traces.
//
// # The API server
//
// APIServer emulates what the informer needs from kube-apiserver and the
// fake lacks: LIST and WATCH with label and field selectors, the cacher's
// transition rules (MODIFIED, ADDED, DELETED carrying the old object at
// the write's resourceVersion, or nothing), namespaces, only metadata.name
// and metadata.namespace as field selectors (anything else a 400), a
// resourceVersion on every write, and watches resumed from a
// resourceVersion. The backend runs it with Held delivery: a write queues
// each watch's event, and the pod's Deliver releases it, so the
// simulator's schedule decides when each informer sees what. Deliver also
// checks that what its own API answered (the GET, the LIST, the event) is
// what the simulator's API server computed, and fails if not.
//
// # Quiescence without sleeping
//
// Deliver returns only when the item is completely handled, and knows it
// without sleeping or polling: the ListWatch reports each LIST and WATCH
// on a channel, the handlers report each call on a channel, and the
// informer's sync is awaited with cache.WaitFor on its HasSyncedChecker
// and the handler registration's (channels, not the 100 ms polling of
// cache.WaitForCacheSync). A Listed waits for the LIST, one handler call
// per listed item, the sync and the WATCH; a Watched releases exactly one
// event and waits for exactly one handler call. Every wait is bounded by
// a generous timeout that only turns a bug into an error instead of a
// hang. TestDeliverIsQuiescent checks the claim in a testing/synctest
// bubble: after each Deliver, once every goroutine is idle, nothing has
// changed.
//
// # client-go v0.37 quirks handled
//
//   - WatchList: over a plain cache.ListWatch the reflector uses the
//     WatchList protocol and waits for an initial-events-end bookmark the
//     fake never sends, so the informer never syncs. The ListWatch is
//     wrapped with cache.ToListWatcherWithWatchListSemantics(lw, clientset):
//     the fake clientset reports it does not support WatchList and the
//     reflector falls back to LIST then WATCH.
//   - Selectors: the fake's Watch ignores label and field selectors and its
//     List ignores field selectors. APIServer installs its own "list" and
//     "watch" reactors for statefulsets (prepended, so they run before the
//     fake's defaults) that apply both, with transitions computed from the
//     object before and after each write, read from the tracker (otherwise
//     an object that already matched would come out as ADDED on its first
//     update).
//   - The fake watch channel: the fake's watchers buffer 100 events and
//     panic on the 101st unread one. APIServer's Watch has an unbounded
//     queue in front of its result channel instead (and under Held delivery
//     never holds more than one released event anyway).
//   - Reactors and the tracker: the fake holds its lock while a reactor
//     runs, so reactors read the Tracker() directly instead of calling the
//     clientset; writes (APIServer.Write, the Pod objects) also go to the
//     Tracker() directly, so no reactor chain runs and the tracker's own
//     selector-blind watchers, which are never opened, send nothing.
//   - Unparsable selectors: the fake's List and Watch parse the selectors
//     before any reactor and panic on a syntax error. KSM never builds one
//     (label values are validated), and an unsupported field, which parses,
//     is answered with a 400 by the reactors.
//
// The quirks are pinned by quirks_test.go: if a client-go upgrade fixes
// one, its test fails and the workaround can go.
package clientgo
