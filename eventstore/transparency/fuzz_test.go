package transparency

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/proof"
)

// fuzzTree is a small tree whose proofs seed the fuzzers.
func fuzzTree(n int) (*Tree, [][]byte) {
	t := NewMemoryTree()
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = hasher.HashLeaf([]byte(fmt.Sprintf("leaf %d", i)))
	}
	t.AppendLeaves(0, leaves)
	return t, leaves
}

// FuzzInclusionProofVerify feeds arbitrary index, size and path bytes to
// inclusion verification (library and reference): no panic, and nothing
// but the true proof verifies for a leaf.
func FuzzInclusionProofVerify(f *testing.F) {
	tr, leaves := fuzzTree(21)
	for _, c := range [][2]uint64{{0, 1}, {3, 8}, {20, 21}, {5, 13}} {
		p, _ := tr.InclusionProof(c[0], c[1])
		f.Add(c[0], c[1], bytes.Join(p, nil))
	}
	f.Fuzz(func(t *testing.T, index, size uint64, flat []byte) {
		var path [][]byte
		for len(flat) >= HashSize {
			path = append(path, flat[:HashSize])
			flat = flat[HashSize:]
		}
		if size == 0 || size > uint64(len(leaves)) || index >= size {
			_ = proof.VerifyInclusion(hasher, index, size, make([]byte, HashSize), path, make([]byte, HashSize))
			_ = refVerifyInclusion(index, size, make([]byte, HashSize), path, make([]byte, HashSize))
			return
		}
		root, _ := tr.RootAt(size)
		want, _ := tr.InclusionProof(index, size)
		lib := proof.VerifyInclusion(hasher, index, size, leaves[index], path, root) == nil
		ref := refVerifyInclusion(index, size, leaves[index], path, root)
		same := len(want) == len(path)
		for i := 0; same && i < len(path); i++ {
			same = bytes.Equal(want[i], path[i])
		}
		if lib != same || ref != same {
			t.Fatalf("inclusion(%d,%d) with path %x: library %v, reference %v, true proof %v", index, size, path, lib, ref, same)
		}
	})
}

// FuzzConsistencyProofVerify does the same for consistency proofs.
func FuzzConsistencyProofVerify(f *testing.F) {
	tr, _ := fuzzTree(21)
	for _, c := range [][2]uint64{{1, 2}, {3, 8}, {8, 21}, {6, 7}} {
		p, _ := tr.ConsistencyProof(c[0], c[1])
		f.Add(c[0], c[1], bytes.Join(p, nil))
	}
	f.Fuzz(func(t *testing.T, size1, size2 uint64, flat []byte) {
		var path [][]byte
		for len(flat) >= HashSize {
			path = append(path, flat[:HashSize])
			flat = flat[HashSize:]
		}
		if size1 == 0 || size1 >= size2 || size2 > tr.Size() {
			_ = proof.VerifyConsistency(hasher, size1, size2, path, make([]byte, HashSize), make([]byte, HashSize))
			_ = refVerifyConsistency(size1, size2, path, make([]byte, HashSize), make([]byte, HashSize))
			return
		}
		r1, _ := tr.RootAt(size1)
		r2, _ := tr.RootAt(size2)
		lib := proof.VerifyConsistency(hasher, size1, size2, path, r1, r2) == nil
		ref := refVerifyConsistency(size1, size2, path, r1, r2)
		want, _ := tr.ConsistencyProof(size1, size2)
		same := len(want) == len(path)
		for i := 0; same && i < len(path); i++ {
			same = bytes.Equal(want[i], path[i])
		}
		if lib != same || ref != same {
			t.Fatalf("consistency(%d,%d) with path %x: library %v, reference %v, true proof %v", size1, size2, path, lib, ref, same)
		}
	})
}

// FuzzProofJSON: proofs as a client receives them must never crash
// verification.
func FuzzProofJSON(f *testing.F) {
	k, _, _ := GenerateKey("fuzz.example/log")
	f.Add([]byte(`{"leaf_index":0,"tree_size":1,"leaf_hex":"00","leaf_hash_hex":"","path_hex":[],"root_hex":"","checkpoint":""}`))
	f.Add([]byte(`{"from":1,"to":2,"path_hex":["00"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ip InclusionProof
		if json.Unmarshal(b, &ip) == nil {
			_ = ip.Verify(k.Verifier)
			_ = ip.Verify(nil)
		}
		var cp ConsistencyProof
		if json.Unmarshal(b, &cp) == nil {
			_ = cp.Verify(make([]byte, HashSize), make([]byte, HashSize))
		}
		_, _ = ParseCheckpoint(b, k.Verifier)
		_, _ = ParseCheckpointBody(string(b))
	})
}
