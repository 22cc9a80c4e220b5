package transparency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"testing"

	"github.com/transparency-dev/merkle/proof"
)

// Known answers from RFC 6962 / the certificate-transparency reference
// implementation (merkle_tree_test.cc): the standard 8-leaf test data,
// the roots of its every prefix, and known audit paths and consistency
// proofs.
var (
	katLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	katEmpty  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// katLeafHashes[i] = SHA-256(0x00 || leaf i)
	katLeafHashes = []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
		"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
	}
	// katRoots[n-1] is the root of the first n leaves.
	katRoots = []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	katInclusion = []struct {
		leaf, size uint64 // leaf is 1-based, as in the reference tests
		path       []string
	}{
		{1, 1, nil},
		{1, 8, []string{
			"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		}},
		{6, 8, []string{
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
		{3, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
		{2, 5, []string{
			"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		}},
	}
	katConsistency = []struct {
		size1, size2 uint64
		path         []string
	}{
		{1, 1, nil},
		{1, 8, []string{
			"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		}},
		{6, 8, []string{
			"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
		{2, 5, []string{
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		}},
		{6, 7, []string{
			"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
	}
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexList(path [][]byte) []string {
	out := make([]string, len(path))
	for i, h := range path {
		out[i] = hex.EncodeToString(h)
	}
	return out
}

// katTrees returns a memory tree and a file-backed tree, each holding the
// 8 known-answer leaves.
func katTrees(t *testing.T) map[string]*Tree {
	t.Helper()
	ft, err := OpenTree(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ft.Close() })
	// A file tree whose in-memory levels start at 1 exercises both the
	// file reads and the memory levels with only 8 leaves.
	ft.memFrom = 1
	trees := map[string]*Tree{"memory": NewMemoryTree(), "file": ft}
	for _, tr := range trees {
		for i, l := range katLeaves {
			if err := tr.AppendLeaves(uint64(i), [][]byte{hasher.HashLeaf(mustHex(t, l))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return trees
}

func TestRFC6962KnownAnswers(t *testing.T) {
	if got := hex.EncodeToString(EmptyRoot()); got != katEmpty {
		t.Fatalf("empty root=%s, want %s", got, katEmpty)
	}
	for i, l := range katLeaves {
		if got := hex.EncodeToString(hasher.HashLeaf(mustHex(t, l))); got != katLeafHashes[i] {
			t.Errorf("leaf hash %d=%s, want %s", i, got, katLeafHashes[i])
		}
	}
	for name, tr := range katTrees(t) {
		t.Run(name, func(t *testing.T) {
			if root, _ := tr.RootAt(0); hex.EncodeToString(root) != katEmpty {
				t.Errorf("root at 0=%x, want the empty root", root)
			}
			for n := range katRoots {
				root, err := tr.RootAt(uint64(n + 1))
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(root); got != katRoots[n] {
					t.Errorf("root at size %d=%s, want %s", n+1, got, katRoots[n])
				}
			}
			for i := range katLeaves {
				h, err := tr.LeafHashAt(uint64(i))
				if err != nil || hex.EncodeToString(h) != katLeafHashes[i] {
					t.Errorf("stored leaf %d=%x (%v), want %s", i, h, err, katLeafHashes[i])
				}
			}
			for _, k := range katInclusion {
				path, err := tr.InclusionProof(k.leaf-1, k.size)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fmt.Sprint(hexList(path)), fmt.Sprint(k.path); got != want && !(len(path) == 0 && len(k.path) == 0) {
					t.Errorf("inclusion(%d,%d)=%s, want %s", k.leaf, k.size, got, want)
				}
			}
			for _, k := range katConsistency {
				path, err := tr.ConsistencyProof(k.size1, k.size2)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fmt.Sprint(hexList(path)), fmt.Sprint(k.path); got != want && !(len(path) == 0 && len(k.path) == 0) {
					t.Errorf("consistency(%d,%d)=%s, want %s", k.size1, k.size2, got, want)
				}
			}
		})
	}
}

// The reference below follows RFC 6962 section 2.1 literally (MTH, PATH,
// SUBPROOF), written without the library, to check the tree's proofs
// independently.

func refHashChildren(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// refSplit is the largest power of two smaller than n (n > 1).
func refSplit(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// refMTH is MTH(D[n]) over leaf hashes.
func refMTH(d [][]byte) []byte {
	switch len(d) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return d[0]
	}
	k := refSplit(len(d))
	return refHashChildren(refMTH(d[:k]), refMTH(d[k:]))
}

// refPath is PATH(m, D[n]).
func refPath(m int, d [][]byte) [][]byte {
	if len(d) <= 1 {
		return nil
	}
	k := refSplit(len(d))
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

// refProof is PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
func refProof(m int, d [][]byte) [][]byte { return refSubproof(m, d, true) }

func refSubproof(m int, d [][]byte, b bool) [][]byte {
	n := len(d)
	if m == n {
		if b {
			return nil
		}
		return [][]byte{refMTH(d)}
	}
	k := refSplit(n)
	if m <= k {
		return append(refSubproof(m, d[:k], b), refMTH(d[k:]))
	}
	return append(refSubproof(m-k, d[k:], false), refMTH(d[:k]))
}

// refVerifyInclusion is the RFC 9162 section 2.1.3.2 verification
// algorithm, written independently of the library's.
func refVerifyInclusion(index, size uint64, leaf []byte, path [][]byte, root []byte) bool {
	if index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = refHashChildren(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = refHashChildren(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(r, root)
}

// refVerifyConsistency is the RFC 9162 section 2.1.4.2 algorithm.
func refVerifyConsistency(size1, size2 uint64, path [][]byte, root1, root2 []byte) bool {
	if size1 == size2 {
		return len(path) == 0 && bytes.Equal(root1, root2)
	}
	if size1 == 0 || size1 > size2 || len(path) == 0 {
		return size1 == 0 && len(path) == 0
	}
	if size1&(size1-1) == 0 {
		path = append([][]byte{root1}, path...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr = refHashChildren(c, fr)
			sr = refHashChildren(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = refHashChildren(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && bytes.Equal(fr, root1) && bytes.Equal(sr, root2)
}

func TestProofsAgainstReference(t *testing.T) {
	const n = 70
	leaves := make([][]byte, n)
	ft, err := OpenTree(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ft.Close()
	ft.memFrom = 3
	mt := NewMemoryTree()
	for i := range leaves {
		leaves[i] = hasher.HashLeaf([]byte(fmt.Sprintf("leaf %d", i)))
		for _, tr := range []*Tree{ft, mt} {
			if err := tr.AppendLeaves(uint64(i), leaves[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, tr := range map[string]*Tree{"file": ft, "memory": mt} {
		for size := uint64(1); size <= n; size++ {
			root, err := tr.RootAt(size)
			if err != nil {
				t.Fatal(err)
			}
			if want := refMTH(leaves[:size]); !bytes.Equal(root, want) {
				t.Fatalf("%s: root at %d=%x, want %x", name, size, root, want)
			}
			for i := uint64(0); i < size; i++ {
				path, err := tr.InclusionProof(i, size)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := hexList(path), hexList(refPath(int(i), leaves[:size])); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: inclusion(%d,%d)=%v, want %v", name, i, size, got, want)
				}
				if err := proof.VerifyInclusion(hasher, i, size, leaves[i], path, root); err != nil {
					t.Fatalf("%s: library rejects inclusion(%d,%d): %v", name, i, size, err)
				}
				if !refVerifyInclusion(i, size, leaves[i], path, root) {
					t.Fatalf("%s: reference rejects inclusion(%d,%d)", name, i, size)
				}
				if size > 1 && refVerifyInclusion(i, size, leaves[(i+1)%size], path, root) {
					t.Fatalf("%s: reference accepts the wrong leaf for inclusion(%d,%d)", name, i, size)
				}
			}
			for s1 := uint64(1); s1 <= size; s1++ {
				path, err := tr.ConsistencyProof(s1, size)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := hexList(path), hexList(refProof(int(s1), leaves[:size])); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: consistency(%d,%d)=%v, want %v", name, s1, size, got, want)
				}
				root1 := refMTH(leaves[:s1])
				if err := proof.VerifyConsistency(hasher, s1, size, path, root1, root); err != nil {
					t.Fatalf("%s: library rejects consistency(%d,%d): %v", name, s1, size, err)
				}
				if !refVerifyConsistency(s1, size, path, root1, root) {
					t.Fatalf("%s: reference rejects consistency(%d,%d)", name, s1, size)
				}
				if s1 < size && refVerifyConsistency(s1, size, path, leaves[0], root) && s1 != 1 {
					t.Fatalf("%s: reference accepts a wrong root for consistency(%d,%d)", name, s1, size)
				}
			}
		}
	}
}

func TestTreeErrors(t *testing.T) {
	tr := NewMemoryTree()
	if err := tr.AppendLeaves(1, [][]byte{make([]byte, 32)}); !errorsIs(err, ErrNotContiguous) {
		t.Errorf("append at 1 of empty tree: %v, want ErrNotContiguous", err)
	}
	if err := tr.AppendLeaves(0, [][]byte{make([]byte, 32), make([]byte, 32)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.InclusionProof(2, 2); !errorsIs(err, ErrPositionBeyondTree) {
		t.Errorf("inclusion(2,2): %v, want ErrPositionBeyondTree", err)
	}
	if _, err := tr.InclusionProof(0, 3); !errorsIs(err, ErrSizeBeyondTree) {
		t.Errorf("inclusion(0,3): %v, want ErrSizeBeyondTree", err)
	}
	if _, err := tr.ConsistencyProof(2, 1); !errorsIs(err, ErrInvalidRange) {
		t.Errorf("consistency(2,1): %v, want ErrInvalidRange", err)
	}
	if _, err := tr.ConsistencyProof(1, 3); !errorsIs(err, ErrSizeBeyondTree) {
		t.Errorf("consistency(1,3): %v, want ErrSizeBeyondTree", err)
	}
	if _, err := tr.RootAt(3); !errorsIs(err, ErrSizeBeyondTree) {
		t.Errorf("root at 3: %v, want ErrSizeBeyondTree", err)
	}
}
