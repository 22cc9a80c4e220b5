package transparency

import "testing"

// TestFollowerLingersOnlyWhenBehindNothing: the follower rests after a
// batch only when it was small and found its subscription's channel less
// than half full; a batch of half a channel or more means a backlog, which
// it takes at once. Expected values are written from that rule.
func TestFollowerLingersOnlyWhenBehindNothing(t *testing.T) {
	cases := []struct {
		batch, capacity int
		want            bool
	}{
		{1, 256, true},       // one commit's events: rest
		{127, 256, true},     // under half the channel
		{128, 256, false},    // half the channel: a backlog
		{256, 256, false},    // the channel was full
		{511, 4096, true},    // a roomy channel: under maxBatch/8 rests
		{512, 4096, false},   // maxBatch/8 or more never rests
		{4096, 4096, false},  // a full batch
		{100, 0, true},       // unbuffered channel: only the batch size counts
		{maxBatch, 0, false}, // a full batch from an unbuffered channel
	}
	for _, c := range cases {
		if got := lingers(c.batch, c.capacity); got != c.want {
			t.Errorf("lingers(batch %d, channel of %d) = %v, want %v", c.batch, c.capacity, got, c.want)
		}
	}
}
