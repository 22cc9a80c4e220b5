package views

import (
	"bytes"

	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/google/uuid"
)

// partnershipNames is the part of a partnership view's state that turns
// school and ISLC ids into their registered names. People are named at
// query time through a PersonNames (the "people" view), never from this
// state, so no plaintext personal name reaches a checkpoint.
type partnershipNames struct {
	Schools     map[uuid.UUID]string       `json:"schools"`
	Communities map[uuid.UUID]communityRef `json:"communities,omitempty"`
}

type communityRef struct {
	Name     string    `json:"name"`
	SchoolID uuid.UUID `json:"school_id"`
}

func newNames(communities bool) partnershipNames {
	n := partnershipNames{Schools: map[uuid.UUID]string{}}
	if communities {
		n.Communities = map[uuid.UUID]communityRef{}
	}
	return n
}

func (n *partnershipNames) school(id uuid.UUID) Ref { return Ref{ID: id, Name: n.Schools[id]} }

func (n *partnershipNames) community(id uuid.UUID) Ref {
	return Ref{ID: id, Name: n.Communities[id].Name}
}

// marshalState and unmarshalState are the JSON state codec of the
// partnership views: encoding/json sorts map keys and the views keep
// slices in fold order, so equal states give equal bytes.
func marshalState(v any) ([]byte, error) { return jsonv2.Marshal(v, jsonV1) }

func unmarshalState(b []byte, v any) error { return jsonv2.Unmarshal(b, v, jsonV1) }

func uuidCmp(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// byName orders refs by name, then id.
func byName(a, b Ref) int {
	if c := compareStrings(a.Name, b.Name); c != 0 {
		return c
	}
	return uuidCmp(a.ID, b.ID)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
