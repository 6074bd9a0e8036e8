package model

import (
	"fmt"
	"testing"
)

func TestOwnership(t *testing.T) {
	uids := make([]string, 2000)
	for i := range uids {
		uids[i] = fmt.Sprintf("uid-%d", i)
	}
	for total := 1; total <= 16; total++ {
		for _, uid := range uids {
			owners := 0
			for shard := int32(0); shard < int32(total)+2; shard++ {
				if Keeps(uid, shard, total) {
					owners++
					if shard >= int32(total) {
						t.Fatalf("shard %d of %d keeps %s", shard, total, uid)
					}
				}
			}
			if owners != 1 {
				t.Fatalf("%s has %d owners among %d shards", uid, owners, total)
			}
			// Monotonicity: going to total+1 a key stays or moves to the new bucket.
			h := HashUID(uid)
			if a, b := Owner(h, total), Owner(h, total+1); a != b && b != int32(total) {
				t.Fatalf("%s moved from %d to %d going from %d to %d shards", uid, a, b, total, total+1)
			}
		}
	}
	if Keeps("anything", 0, 0) {
		t.Error("total 0 keeps something")
	}
}
