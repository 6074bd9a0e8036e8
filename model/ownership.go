package model

import (
	"hash/fnv"

	jump "github.com/dgryski/go-jump"
)

// HashUID is the key KSM feeds to jump hash for an object: FNV-1a 64 over
// the bytes of metadata.uid (kube-state-metrics pkg/sharding, sharding.keep).
// An object's UID never changes, so callers hash it once and keep the result.
func HashUID(uid string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(uid))
	return h.Sum64()
}

// Owner returns the shard index that owns an object whose UID hashes to
// key when the work is split into total shards: jump.Hash(key, total),
// the Jump Consistent Hash of github.com/dgryski/go-jump that KSM calls.
// For total <= 0 it returns -1, which no shard equals.
func Owner(key uint64, total int) int32 {
	return jump.Hash(key, total)
}

// Keeps reports whether shard shard of total keeps the object with the
// given UID, exactly as KSM's sharded ListWatch decides: the object is kept
// iff Owner(HashUID(uid), total) == shard. For the shards a pod can hold
// (its ordinal, >= 0), total == 0 keeps nothing, and so does a shard >=
// total. Like KSM, it compares with jump.Hash's -1 for total <= 0, so the
// impossible shard -1 of total 0 would keep everything.
func Keeps(uid string, shard int32, total int) bool {
	return Owner(HashUID(uid), total) == shard
}
