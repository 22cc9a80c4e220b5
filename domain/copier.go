package domain

import "reflect"

// Copier is implemented by aggregates that copy themselves faster than
// the aggregate cache's reflective deep copy (a map copied whole with
// maps.Clone rather than entry by entry through reflection). The cache
// copies an aggregate for every command on it, so a large, busy aggregate
// (an ISLC with every election it held) gains from one.
//
// CopyAggregate must return a new aggregate of the receiver's type, equal
// to it (reflect.DeepEqual, nil and empty kept apart), that shares nothing
// the receiver's Apply or a command could change: every map, every
// slice's elements and every pointer's target copied; strings and times
// may be shared. A copy that misses a field added later breaks the
// cache's rule that loads never share state, so test it against the
// reflective copy on real aggregates (domain's TestCopiersCopyDeeply
// does, on a generated demo).
type Copier interface {
	CopyAggregate() Aggregate
}

// copyAggregate returns a deep copy of v, a pointer to an aggregate, with
// the aggregate's own CopyAggregate if it has one.
func copyAggregate(v reflect.Value) reflect.Value {
	if c, ok := v.Interface().(Copier); ok {
		return reflect.ValueOf(c.CopyAggregate())
	}
	return deepCopy(v)
}

// GrowCopy returns a copy of s with room for n more elements, for a
// Copier whose copies Apply appends to: the copy a command folds its
// events into then does not reallocate the whole slice for the first.
// nil stays nil and empty stays empty.
func GrowCopy[S ~[]E, E any](s S, n int) S {
	if s == nil {
		return nil
	}
	return append(make(S, 0, len(s)+n), s...)
}

// CopyOf returns a deep copy of v sharing nothing Apply could change (the
// aggregate's own CopyAggregate when v is a Copier, the reflective deep
// copy otherwise): a read model that keeps every version of an aggregate
// folds each event into a copy of the version before it.
func CopyOf[T any](v T) T {
	return copyAggregate(reflect.ValueOf(v)).Interface().(T)
}
