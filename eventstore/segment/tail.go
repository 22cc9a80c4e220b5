package segment

// tailChunk is how many events one block of the in-memory tail holds.
const tailChunk = 512

// tailLog is the in-memory tail: published events not yet indexed, in
// position order, in fixed blocks. A growing slice of events was copied
// whole each time it ran out of room, by the syncer and under the store's
// lock, which at 64 writers was half of what publishing a group cost.
// Blocks are never moved: publishing fills the last one or adds another,
// and indexing drops whole blocks from the front.
//
// A copy of a tailLog taken under s.mu's read lock stays valid after the
// lock is released: later publications only write entries past the
// copy's length (in a block the copy may share, or in new blocks), and
// indexing only moves the live tailLog's start.
type tailLog struct {
	blocks []*[tailChunk]tailEntry
	skip   int // entries of blocks[0] already indexed
	n      int // live entries
}

// len returns the number of events in the tail.
func (t *tailLog) len() int { return t.n }

// at returns the i-th event of the tail (0 is the oldest).
func (t *tailLog) at(i int) *tailEntry {
	i += t.skip
	return &t.blocks[i/tailChunk][i%tailChunk]
}

// push appends e to the tail.
func (t *tailLog) push(e tailEntry) {
	i := t.skip + t.n
	if i == len(t.blocks)*tailChunk {
		t.blocks = append(t.blocks, new([tailChunk]tailEntry))
	}
	t.blocks[i/tailChunk][i%tailChunk] = e
	t.n++
}

// drop forgets the k oldest events. Blocks left empty are released: not
// cleared, since an earlier copy may still read them, but no longer
// referenced by the live tail.
func (t *tailLog) drop(k int) {
	t.skip += k
	t.n -= k
	if t.n == 0 {
		*t = tailLog{}
		return
	}
	full := t.skip / tailChunk
	t.blocks = t.blocks[full:]
	t.skip -= full * tailChunk
}
