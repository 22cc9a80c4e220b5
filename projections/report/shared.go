package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/jsonenc"
	"github.com/concord-ledger/concord/projections/views"
)

// sharedParts are the parts of a report, by their path in its JSON, that
// name no one: the views they come from are given no names (a person
// appears in them by id at most), so every reader of a live report at
// one position gets the same. They are most of a report's bytes (the
// resources, their utilisation, the CPD events, the RAG board and the
// timeline of fifty schools), and what a live report keeps between
// readers in the views' Memo, with their JSON, until the next event.
// The parts that name people (the partnership's lead, secondments, peer
// reviews and follow-ups, commitments, celebrations, challenges) are
// worked out again unless the whole report is kept (keptWhole), which
// holds only while no key was destroyed.
var sharedParts = []string{
	"community_membership_by_year",
	"collective_reporting.resources",
	"collective_reporting.utilisation",
	"collective_reporting.loans_by_status",
	"collective_reporting.loans_returned_by_condition",
	"collective_reporting.overdue_loans",
	"collective_reporting.cpd",
	"collective_reporting.cpd_events",
	"collective_reporting.cpd_schools",
	"collective_reporting.costs",
	"collective_accountability.rag_board",
	"collective_accountability.rag_by_area",
	"collective_accountability.proposals_decided",
	"timeline.next",
	"timeline.outstanding",
	"timeline.done",
}

// sharedIndex is the field index of each of sharedParts in Report.
var sharedIndex = func() [][]int {
	out := make([][]int, len(sharedParts))
	for i, path := range sharedParts {
		idx, ok := fieldPath(reflect.TypeFor[Report](), path)
		if !ok {
			panic("report: no part " + path) // a programming error every test meets
		}
		out[i] = idx
	}
	return out
}()

// fieldPath returns the field index of the part of t at JSON path path.
func fieldPath(t reflect.Type, path string) ([]int, bool) {
	var idx []int
	for name := range strings.SplitSeq(path, ".") {
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for i := range t.NumField() {
			if jsonName(t.Field(i)) == name {
				idx, t, found = append(idx, i), t.Field(i).Type, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return idx, true
}

// jsonName is the name encoding/json gives field f ("-" when it leaves
// it out).
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return "-"
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// memoKey is what a live report's shared parts depend on besides the
// ledger position: the partnership and the period.
type memoKey struct {
	pid      uuid.UUID
	from, to time.Time
	year     string
}

// kept is a live report's shared parts and their JSON, as worked out at
// one position.
type kept struct {
	rep *Report // only the shared parts are set
	raw map[string][]byte
}

// keep returns rep's shared parts, with their JSON.
func keep(rep *Report) (*kept, error) {
	k := &kept{rep: &Report{}, raw: make(map[string][]byte, len(sharedParts))}
	copyShared(k.rep, rep)
	src := reflect.ValueOf(rep).Elem()
	for i, idx := range sharedIndex {
		b, err := encodeJSON(src.FieldByIndex(idx).Interface())
		if err != nil {
			return nil, fmt.Errorf("report: %s: %w", sharedParts[i], err)
		}
		k.raw[sharedParts[i]] = b
	}
	return k, nil
}

// copyShared sets dst's shared parts to src's (sharing their lists).
func copyShared(dst, src *Report) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for _, idx := range sharedIndex {
		d.FieldByIndex(idx).Set(s.FieldByIndex(idx))
	}
}

// wholeKey is what a whole live report depends on besides the ledger
// position: the partnership, the period asked for (zero: the academic
// year of the reckoning day, which the position sets), and the names as
// they stand (views.Reader.Erasures).
type wholeKey struct {
	pid       uuid.UUID
	period    views.Period
	hasPeriod bool
	erasures  uint64
}

func wholeKeyOf(pid uuid.UUID, p *views.Period, erasures uint64) wholeKey {
	k := wholeKey{pid: pid, erasures: erasures}
	if p != nil {
		k.period, k.hasPeriod = *p, true
	}
	return k
}

// keptWhole returns the live report of pid for period p kept at the
// position every view of the report still stands at, with the names as
// they stood (none erased since): what building it again would give. The
// report is the caller's (its Footer may be changed); its lists are
// shared and must not be.
func keptWhole(r *views.Reader, pid uuid.UUID, p *views.Period) (*Report, bool) {
	memo := r.Memo()
	if memo == nil || r.Erasures == nil {
		return nil, false
	}
	v, pos, ok := memo.Latest(wholeKeyOf(pid, p, r.Erasures()))
	if !ok {
		return nil, false
	}
	for _, name := range Views {
		if !r.StandsAt(name, pos) {
			return nil, false
		}
	}
	out := *v.(*Report)
	return &out, true
}

// keepWhole keeps rep, the live report of pid for period p built with the
// names as they stood at erasures, with the JSON of every part but its
// footer: the next reader at the same position gets it from keptWhole.
// Nothing is kept when a key was destroyed meanwhile.
func keepWhole(r *views.Reader, pid uuid.UUID, p *views.Period, erasures uint64, rep *Report) error {
	memo := r.Memo()
	if memo == nil || r.Erasures == nil || r.Erasures() != erasures {
		return nil
	}
	k := *rep
	k.raw = make(map[string][]byte, len(wholeParts))
	v := reflect.ValueOf(rep).Elem()
	for _, f := range wholeParts {
		if part, ok := rep.raw[f.name]; ok {
			k.raw[f.name] = part
			continue
		}
		b, err := encodeJSON(v.Field(f.index).Interface())
		if err != nil {
			return fmt.Errorf("report: %s: %w", f.name, err)
		}
		k.raw[f.name] = b
	}
	memo.Put(wholeKeyOf(pid, p, erasures), rep.Footer.Position, &k)
	return nil
}

// wholeParts are the report's members, by name and field index, but its
// footer (which says the reading and the checkpoint that covers it).
var wholeParts = func() []wholePart {
	var out []wholePart
	t := reflect.TypeFor[Report]()
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "-" && name != "footer" {
			out = append(out, wholePart{name, i})
		}
	}
	return out
}()

type wholePart struct {
	name  string
	index int
}

// memoKeyOf is the key of the report of partnership pid for period p.
func memoKeyOf(pid uuid.UUID, p views.Period) memoKey {
	return memoKey{pid: pid, from: p.From, to: p.To, year: p.Year}
}

// encodeJSON encodes v as the API does (no HTML escaping), without the
// encoder's newline.
func encodeJSON(v any) ([]byte, error) { return jsonenc.AppendAny(nil, v) }

// AppendJSON appends the report's JSON to b: the bytes encoding/json
// gives it with HTML escaping off (as the API answers), with the parts
// kept from an earlier reading at the same position (see sharedParts)
// copied rather than encoded again.
func (r *Report) AppendJSON(b []byte) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := writeStruct(buf, enc, reflect.ValueOf(r).Elem(), "", r.raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeStruct writes struct v to buf as encoding/json encodes it (enc
// encodes into buf), taking the part at each path in raw (paths under
// prefix) as it is.
func writeStruct(buf *bytes.Buffer, enc *json.Encoder, v reflect.Value, prefix string, raw map[string][]byte) error {
	buf.WriteByte('{')
	first := true
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if strings.Contains(f.Tag.Get("json"), ",omitempty") && isEmpty(fv) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteByte('"')
		buf.WriteString(name)
		buf.WriteString(`":`)
		path := prefix + name
		if part, ok := raw[path]; ok {
			buf.Write(part)
			continue
		}
		if fv.Kind() == reflect.Struct && hasUnder(raw, path+".") {
			if err := writeStruct(buf, enc, fv, path+".", raw); err != nil {
				return err
			}
			continue
		}
		if out, err := jsonenc.Append(buf.AvailableBuffer(), fv.Interface()); err == nil {
			buf.Write(out)
			continue
		}
		if err := enc.Encode(fv.Interface()); err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
		buf.Truncate(buf.Len() - 1) // the encoder's newline
	}
	buf.WriteByte('}')
	return nil
}

// isEmpty reports whether omitempty leaves v out, as encoding/json
// decides it.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Struct:
		return false
	}
	return v.IsZero()
}

func hasUnder(raw map[string][]byte, prefix string) bool {
	for k := range raw {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
