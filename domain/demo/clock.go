package demo

import (
	"sync"
	"time"
)

// Clock is the clock Generate moves through the generated history. While
// Generate runs it reads the simulated time (never going back); before
// and after, it reads the real clock. Give its Now to the event store
// (ledger.Config.Now) so that recorded times follow the history too, and
// an as-of-time question about last October finds last October's events.
// It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	real func() time.Time
	at   time.Time // simulated time; zero when following the real clock
}

// NewClock returns a Clock following real (time.Now when nil) until
// Generate drives it.
func NewClock(real func() time.Time) *Clock {
	if real == nil {
		real = time.Now
	}
	return &Clock{real: real}
}

// Now returns the simulated time while a generation runs, else the real
// time, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return c.real().UTC()
	}
	return c.at
}

// set moves the simulated time to t, or leaves it if t is earlier: time
// never runs backwards.
func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.at) {
		c.at = t.UTC()
	}
}

// advance moves the simulated time on by d.
func (c *Clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// release returns the clock to the real time.
func (c *Clock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = time.Time{}
}
