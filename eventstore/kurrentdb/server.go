package kurrentdb

import (
	"context"
	"errors"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// server is the part of the KurrentDB client the Store uses. In production
// it is clientServer over *esdb.Client; the package's tests also run the
// Store over an in-process fake of it.
type server interface {
	AppendToStream(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error)
	ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (eventReader, error)
	ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) (eventReader, error)
	SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscriptionReader, error)
	Close() error
}

// eventReader is a read in progress (*esdb.ReadStream).
type eventReader interface {
	Recv() (*esdb.ResolvedEvent, error)
	Close()
}

// subscriptionReader is a subscription in progress (*esdb.Subscription).
type subscriptionReader interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

// The two client errors the Store acts on, so that it tests for these
// types and not for client error codes.
type (
	// wrongVersionError is an append's failed optimistic-concurrency
	// check; its text holds the stream's current revision (parseActual).
	wrongVersionError struct{ err error }
	// streamNotFoundError is a read of a stream with no events.
	streamNotFoundError struct{ err error }
)

func (e *wrongVersionError) Error() string   { return e.err.Error() }
func (e *wrongVersionError) Unwrap() error   { return e.err }
func (e *streamNotFoundError) Error() string { return e.err.Error() }
func (e *streamNotFoundError) Unwrap() error { return e.err }

// classify turns the client's wrong-expected-version and not-found errors
// into the types above; other errors pass unchanged.
func classify(err error) error {
	var esErr *esdb.Error
	if err == nil || !errors.As(err, &esErr) {
		return err
	}
	switch esErr.Code() {
	case esdb.ErrorCodeWrongExpectedVersion:
		return &wrongVersionError{err}
	case esdb.ErrorCodeResourceNotFound:
		return &streamNotFoundError{err}
	}
	return err
}

// clientServer is server over the official client.
type clientServer struct{ c *esdb.Client }

func (s clientServer) AppendToStream(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error) {
	wr, err := s.c.AppendToStream(ctx, stream, opts, events...)
	return wr, classify(err)
}

func (s clientServer) ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (eventReader, error) {
	rs, err := s.c.ReadStream(ctx, stream, opts, count)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingReader{rs}, nil
}

func (s clientServer) ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) (eventReader, error) {
	rs, err := s.c.ReadAll(ctx, opts, count)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingReader{rs}, nil
}

func (s clientServer) SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscriptionReader, error) {
	return s.c.SubscribeToAll(ctx, opts)
}

func (s clientServer) Close() error { return s.c.Close() }

type classifyingReader struct{ rs *esdb.ReadStream }

func (r classifyingReader) Recv() (*esdb.ResolvedEvent, error) {
	ev, err := r.rs.Recv()
	return ev, classify(err)
}

func (r classifyingReader) Close() { r.rs.Close() }
