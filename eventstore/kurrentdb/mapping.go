package kurrentdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MetadataFormat is the value of EventMetadata.Format written by this
// package.
const MetadataFormat = "concord/1"

// EventMetadata is the JSON object stored as the metadata of every
// KurrentDB event that holds a Concord event. Together with the event's
// ID, type and data it carries the whole Concord envelope, so a Concord
// event can be rebuilt from KurrentDB alone.
//
// Every value is a JSON string (KurrentDB's newer append APIs accept only
// string-valued metadata, and string values keep the format the same
// there). An event whose metadata does not decode, or whose Format is not
// MetadataFormat, is not a Concord event: the store skips it.
type EventMetadata struct {
	// Format identifies this layout: MetadataFormat.
	Format string `json:"concord"`
	// Schema is eventstore.EventData.Schema in decimal.
	Schema string `json:"schema"`
	// ActorID, ActorRole and Reason are the eventstore.Metadata fields.
	ActorID   string `json:"actor_id"`
	ActorRole string `json:"actor_role"`
	Reason    string `json:"reason,omitempty"`
	// CausationID and CorrelationID are UUIDs in their canonical text form.
	CausationID   string `json:"causation_id"`
	CorrelationID string `json:"correlation_id"`
	// EffectiveAt is eventstore.Metadata.EffectiveAt in
	// eventstore.TimeLayout (UTC, nanoseconds), or absent when zero.
	EffectiveAt string `json:"effective_at,omitempty"`
}

// encodeMetadata returns the KurrentDB metadata of e.
func encodeMetadata(e eventstore.EventData) []byte {
	m := EventMetadata{
		Format:        MetadataFormat,
		Schema:        strconv.FormatUint(uint64(e.Schema), 10),
		ActorID:       e.Metadata.ActorID,
		ActorRole:     e.Metadata.ActorRole,
		Reason:        e.Metadata.Reason,
		CausationID:   e.Metadata.CausationID.String(),
		CorrelationID: e.Metadata.CorrelationID.String(),
	}
	if !e.Metadata.EffectiveAt.IsZero() {
		m.EffectiveAt = eventstore.FormatTime(e.Metadata.EffectiveAt)
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Only strings are marshalled; this cannot fail.
		panic(fmt.Sprintf("kurrentdb: marshal metadata: %v", err))
	}
	return b
}

// decodeMetadata parses the KurrentDB metadata of a Concord event.
func decodeMetadata(b []byte) (schema uint32, md eventstore.Metadata, err error) {
	var m EventMetadata
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, md, fmt.Errorf("metadata: %w", err)
	}
	if m.Format != MetadataFormat {
		return 0, md, fmt.Errorf("metadata: format %q, want %q", m.Format, MetadataFormat)
	}
	s, err := strconv.ParseUint(m.Schema, 10, 32)
	if err != nil || s == 0 {
		return 0, md, fmt.Errorf("metadata: schema %q is not a version", m.Schema)
	}
	md = eventstore.Metadata{ActorID: m.ActorID, ActorRole: m.ActorRole, Reason: m.Reason}
	if md.CausationID, err = uuid.Parse(m.CausationID); err != nil {
		return 0, md, fmt.Errorf("metadata: causation id: %w", err)
	}
	if md.CorrelationID, err = uuid.Parse(m.CorrelationID); err != nil {
		return 0, md, fmt.Errorf("metadata: correlation id: %w", err)
	}
	if m.EffectiveAt != "" {
		if md.EffectiveAt, err = time.Parse(eventstore.TimeLayout, m.EffectiveAt); err != nil {
			return 0, md, fmt.Errorf("metadata: effective_at: %w", err)
		}
	}
	return uint32(s), md, nil
}

// toProposed maps a Concord event to the event KurrentDB stores: the same
// ID (KurrentDB's idempotency key), the type, the JSON data byte for byte
// and the rest of the envelope as EventMetadata.
func toProposed(e eventstore.EventData) esdb.EventData {
	return esdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    encodeMetadata(e),
	}
}

// concordStream returns the Concord stream ID of a KurrentDB stream, and
// false if the stream is not one of the store's: it lacks the prefix or
// what follows is not a valid Concord stream ID (system streams start
// with '$', which no valid ID does).
func concordStream(prefix, kurrentStream string) (string, bool) {
	id, ok := strings.CutPrefix(kurrentStream, prefix)
	if !ok || eventstore.ValidateStreamID(id) != nil {
		return "", false
	}
	return id, true
}

// fromRecorded rebuilds a Concord event from a KurrentDB event. Position
// is left 0 (KurrentDB positions are not Concord positions) and RecordedAt
// is the event's created date in UTC; the store overwrites both from its
// position log. It fails for events that are not Concord events of the
// store with this prefix.
func fromRecorded(prefix string, r *esdb.RecordedEvent) (eventstore.RecordedEvent, error) {
	if r == nil {
		return eventstore.RecordedEvent{}, errors.New("kurrentdb: no event")
	}
	stream, ok := concordStream(prefix, r.StreamID)
	if !ok {
		return eventstore.RecordedEvent{}, fmt.Errorf("kurrentdb: stream %q is not a Concord stream with prefix %q", r.StreamID, prefix)
	}
	if r.EventType == "" || r.EventType[0] == '$' {
		return eventstore.RecordedEvent{}, fmt.Errorf("kurrentdb: %s@%d: system event type %q", r.StreamID, r.EventNumber, r.EventType)
	}
	schema, md, err := decodeMetadata(r.UserMetadata)
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("kurrentdb: %s@%d: %w", r.StreamID, r.EventNumber, err)
	}
	return eventstore.RecordedEvent{
		EventData: eventstore.EventData{
			ID:       r.EventID,
			Type:     r.EventType,
			Schema:   schema,
			Data:     r.Data,
			Metadata: md,
		},
		StreamID:   stream,
		Revision:   r.EventNumber,
		RecordedAt: r.CreatedDate.UTC(),
	}, nil
}

// toExpected maps a Concord expectation to KurrentDB's.
func toExpected(e eventstore.ExpectedRevision) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	}
	if rev, ok := e.ExactRevision(); ok {
		return esdb.Revision(rev)
	}
	return esdb.Any{}
}

// parseActual reads the stream's current revision from the message of the
// client's wrong-expected-version error ("... expecting 'x' but got
// 'no_stream'" or "... but got '7'"): -1 for no stream.
func parseActual(msg string) (int64, bool) {
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return 0, false
	}
	switch v := rest[:j]; v {
	case "no_stream":
		return -1, true
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
}

// translate maps a client error that is not a wrong expected version to
// the store's errors: cancellations and deadlines to the context errors,
// an append over the server's size limit to ErrEventTooLarge; anything
// else is wrapped as it is.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var esErr *esdb.Error
	if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeDeadlineExceeded {
		return fmt.Errorf("%s: %w: %v", op, context.DeadlineExceeded, err)
	}
	if st, ok := grpcStatus(err); ok {
		switch {
		case st.Code() == codes.Canceled:
			return fmt.Errorf("%s: %w: %v", op, context.Canceled, err)
		case st.Code() == codes.DeadlineExceeded:
			return fmt.Errorf("%s: %w: %v", op, context.DeadlineExceeded, err)
		case tooLarge(st.Message()):
			return fmt.Errorf("%s: %w: the server refused the append: %v (raise the server's MaxAppendSize or lower Options.MaxEventSize)", op, eventstore.ErrEventTooLarge, err)
		}
	}
	return fmt.Errorf("%s: kurrentdb: %w", op, err)
}

// tooLarge reports whether a status message is the server refusing an
// append over MaxAppendSize ("Maximum Append Size of 1048576 Exceeded.")
// or an event over MaxAppendEventSize (24.10.4 and later).
func tooLarge(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "maximum append size") || strings.Contains(m, "append event size")
}

// grpcStatus finds a gRPC status in err's chain.
func grpcStatus(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus(), true
	}
	return nil, false
}

// connectionString accepts esdb://, esdb+discover://, kurrentdb:// and
// kurrentdb+discover:// (also kdb:// and kdb+discover://) connection
// strings and returns the form the v4 client parses (esdb schemes).
func connectionString(url string) (string, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok || rest == "" {
		return "", fmt.Errorf("kurrentdb: connection string %q: want esdb://host:2113?tls=false or kurrentdb://…", redact(url))
	}
	switch strings.ToLower(scheme) {
	case "esdb", "kurrentdb", "kurrent", "kdb":
		return "esdb://" + rest, nil
	case "esdb+discover", "kurrentdb+discover", "kurrent+discover", "kdb+discover":
		return "esdb+discover://" + rest, nil
	}
	return "", fmt.Errorf("kurrentdb: connection string scheme %q: want esdb, esdb+discover, kurrentdb or kurrentdb+discover", scheme)
}

// redact hides a password in a connection string for error messages.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return url
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":***" + rest[at:]
}
