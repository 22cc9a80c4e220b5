package views

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// benchMessages returns n messages: the scenario's school year repeated,
// each repetition a new school (every id in the events remapped), with
// fresh positions and later times, so the views see a realistic mix of
// events over many schools.
func benchMessages(b *testing.B, n int) []domain.Message {
	b.Helper()
	w := newGovWorld(b)
	w.run(nil)
	year := w.messages()
	out := make([]domain.Message, n)
	for i := range out {
		m := year[i%len(year)]
		rep := uint32(i / len(year))
		m.ID = remapID(m.ID, rep)
		m.Meta.CorrelationID, m.Meta.CausationID = remapID(m.Meta.CorrelationID, rep), remapID(m.Meta.CausationID, rep)
		if kind, id, ok := strings.Cut(m.Stream, "-"); ok {
			if u, err := uuid.Parse(id); err == nil {
				m.Stream = kind + "-" + remapID(u, rep).String()
			}
		}
		ev := reflect.New(reflect.TypeOf(m.Event)).Elem()
		ev.Set(reflect.ValueOf(m.Event))
		remapValue(ev, rep)
		m.Event = ev.Interface().(domain.Event)
		m.Position = uint64(i + 1)
		m.RecordedAt = m.RecordedAt.Add(time.Duration(rep) * time.Minute)
		out[i] = m
	}
	return out
}

func remapID(id uuid.UUID, rep uint32) uuid.UUID {
	if id == uuid.Nil || rep == 0 {
		return id
	}
	id[12] ^= byte(rep >> 24)
	id[13] ^= byte(rep >> 16)
	id[14] ^= byte(rep >> 8)
	id[15] ^= byte(rep)
	return id
}

// remapValue remaps every uuid in v (settable) in place, copying slices
// and pointers so the original events are untouched.
func remapValue(v reflect.Value, rep uint32) {
	uuidType := reflect.TypeFor[uuid.UUID]()
	switch {
	case v.Type() == uuidType:
		v.Set(reflect.ValueOf(remapID(v.Interface().(uuid.UUID), rep)))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				remapValue(v.Field(i), rep)
			}
		}
	case v.Kind() == reflect.Slice && !v.IsNil() && v.Type().Elem().Kind() != reflect.Uint8:
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			remapValue(c.Index(i), rep)
		}
		v.Set(c)
	case v.Kind() == reflect.Pointer && !v.IsNil():
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(v.Elem())
		remapValue(p.Elem(), rep)
		v.Set(p)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkGovViewsApply folds b.N events into every governance view and
// reports events/s and the heap the views hold per event. Run it with
// -benchtime=1000000x for the figure at a million events.
func BenchmarkGovViewsApply(b *testing.B) {
	msgs := benchMessages(b, b.N)
	var vs []interface{ Apply(domain.Message) error }
	for _, f := range govFactories() {
		vs = append(vs, f())
	}
	before := heapInUse()
	b.ResetTimer()
	for _, m := range msgs {
		for _, v := range vs {
			if err := v.Apply(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	runtime.KeepAlive(msgs)
	b.ReportMetric((float64(heapInUse())-float64(before))/float64(b.N), "heap-B/event")
	runtime.KeepAlive(vs)
	runtime.KeepAlive(msgs)
}

// BenchmarkAuditApply is BenchmarkGovViewsApply for the audit view alone,
// the one whose state grows with every event.
func BenchmarkAuditApply(b *testing.B) {
	msgs := benchMessages(b, b.N)
	a := NewAudit()
	before := heapInUse()
	b.ResetTimer()
	for _, m := range msgs {
		if err := a.Apply(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric((float64(heapInUse())-float64(before))/float64(b.N), "heap-B/event")
	runtime.KeepAlive(a)
	runtime.KeepAlive(msgs)
}

// BenchmarkAuditMarshal measures a snapshot of an audit view of 100 000
// events (the engine writes one every SnapshotEvery positions).
func BenchmarkAuditMarshal(b *testing.B) {
	msgs := benchMessages(b, 100_000)
	a := NewAudit()
	for _, m := range msgs {
		a.Apply(m)
	}
	b.ResetTimer()
	var size int
	for range b.N {
		st, err := a.MarshalState()
		if err != nil {
			b.Fatal(err)
		}
		size = len(st)
	}
	b.ReportMetric(float64(size)/100_000, "B/event")
}

// BenchmarkAuditQuery pages a person's entries out of 100 000 events.
func BenchmarkAuditQuery(b *testing.B) {
	msgs := benchMessages(b, 100_000)
	a := NewAudit()
	for _, m := range msgs {
		a.Apply(m)
	}
	var person uuid.UUID
	for _, m := range msgs {
		if e, ok := m.Event.(governance.MemberLeft); ok {
			person = e.PersonID
			break
		}
	}
	b.ResetTimer()
	for range b.N {
		page := a.Events(AuditFilter{Person: person}, 50_000, 50, nil)
		if len(page.Entries) != 50 {
			b.Fatalf("%d entries", len(page.Entries))
		}
	}
}
