package api

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// A read whose data is a list answers one page of it: limit entries
// (DefaultListLimit unless asked, at most MaxListLimit) from cursor (the
// number of entries before the page; a page's next). Ten years of a
// partnership's loans are a hundred thousand entries: nobody reads them in
// one answer, and building it took seconds.
const (
	DefaultListLimit = DefaultEventsLimit
	MaxListLimit     = MaxEventsLimit
)

// listPage is the page a request asks for.
type listPage struct {
	cursor, limit int
}

// pageQuery reads the page a request asks for (limit and cursor).
func pageQuery(r *http.Request) (listPage, error) {
	limit, err := queryUint(r, "limit", DefaultListLimit)
	if err != nil {
		return listPage{}, err
	}
	if limit < 1 || limit > MaxListLimit {
		return listPage{}, badRequest("limit %d is out of range: ask for 1 to %d entries", limit, MaxListLimit)
	}
	cursor, err := queryUint(r, "cursor", 0)
	if err != nil {
		return listPage{}, err
	}
	return listPage{cursor: int(min(cursor, 1<<40)), limit: int(limit)}, nil
}

// pagedList is the page of a list a read built itself (from a view that
// reads only the page), with how many entries the whole list has.
type pagedList struct {
	page  any
	total int
}

// isList reports whether data is a list, which a read answers in pages.
func isList(data any) bool {
	return data != nil && reflect.TypeOf(data).Kind() == reflect.Slice
}

// pageOf cuts out of into the page pg asks for when its data is a list:
// it sets the page's data, the list's total and, when entries follow, the
// next cursor and a Link header to the next page. A live reading's next
// page is pinned to the position this page was read at, so that the pages
// of one list are one reading however the ledger grows between them.
func pageOf(w http.ResponseWriter, r *http.Request, out *Reading, pg listPage) {
	var total, from, to int
	switch d := out.Data.(type) {
	case pagedList:
		total = d.total
		from = min(pg.cursor, total)
		to = min(from+pg.limit, total)
		out.Data = d.page
	default:
		if !isList(out.Data) {
			return
		}
		rv := reflect.ValueOf(out.Data)
		total = rv.Len()
		from = min(pg.cursor, total)
		to = min(from+pg.limit, total)
		out.Data = rv.Slice(from, to).Interface()
	}
	out.Total = &total
	if to == total {
		return
	}
	next := uint64(to)
	out.Next = &next
	u := url.URL{Path: r.URL.Path}
	q := r.URL.Query()
	q.Set("cursor", strconv.Itoa(to))
	if out.Reading == ReadingLive {
		q.Set("position", strconv.FormatUint(out.Position, 10))
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
}
