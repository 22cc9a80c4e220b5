package kurrentdb

import (
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
)

// Retry delays of the follower after its subscription drops.
const (
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

// filter selects, on the server, the $all events the follower needs: the
// prefix's streams, or every stream not starting with '$'. The position
// log applies the exact rules again.
func (s *Store) filter() *esdb.SubscriptionFilter {
	if s.prefix != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.prefix}}
	}
	return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^[^$]`}
}

// follow keeps a filtered catch-up subscription to $all open for the
// store's lifetime and feeds it to the position log. After a drop it
// resubscribes from the furthest position seen (the log ignores replays),
// backing off up to maxRetry; it gives up only on errors retrying cannot
// fix (access denied), which waiting calls then return.
func (s *Store) follow() {
	defer close(s.followDone)
	delay := s.retry
	for {
		s.mu.Lock()
		var from esdb.AllPosition = esdb.Start{}
		if s.log.seen {
			from = s.log.furthest
		}
		s.mu.Unlock()
		sub, err := s.client.SubscribeToAll(s.base, esdb.SubscribeToAllOptions{From: from, Filter: s.filter()})
		if err == nil {
			var progressed bool
			progressed, err = s.consume(sub)
			sub.Close()
			if progressed {
				delay = s.retry
			}
		}
		if s.base.Err() != nil {
			return
		}
		if fatal(err) {
			s.mu.Lock()
			s.fatal = fmt.Errorf("kurrentdb: following $all: %w", err)
			s.notifyLocked()
			s.mu.Unlock()
			s.logger.Error("kurrentdb: following $all failed for good", "err", err)
			return
		}
		s.logger.Warn("kurrentdb: following $all failed; resubscribing", "err", err, "after", delay)
		select {
		case <-s.base.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetry)
	}
}

// consume feeds the subscription's messages to the position log until it
// drops, and reports whether any message arrived (the subscription worked,
// so a resubscription need not back off).
func (s *Store) consume(sub subscriptionReader) (progressed bool, err error) {
	for {
		msg := sub.Recv()
		s.mu.Lock()
		switch {
		case msg.SubscriptionDropped != nil:
			s.mu.Unlock()
			err := msg.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return progressed, err
		case msg.EventAppeared != nil:
			s.log.observe(msg.EventAppeared.OriginalEvent())
		case msg.CheckPointReached != nil:
			s.log.checkpoint(*msg.CheckPointReached)
		case msg.CaughtUp != nil:
			s.live = true
		}
		progressed = true
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// fatal reports whether a follower error is one retrying cannot fix.
func fatal(err error) bool {
	var esErr *esdb.Error
	if errors.As(err, &esErr) {
		switch esErr.Code() {
		case esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature:
			return true
		}
	}
	if st, ok := grpcStatus(err); ok {
		switch st.Code() {
		case codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
			return true
		}
	}
	return false
}
