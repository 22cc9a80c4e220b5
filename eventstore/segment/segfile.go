package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A segment is one file of the log, named by the position of its first
// record (segmentName). Segments are preallocated, written only at their
// end by the committer, and read with pread by anyone, so readers never
// see a mapping disappear under them.
type segment struct {
	base uint64 // position of the first record; fixed at creation
	path string
	f    *os.File
}

const (
	segmentExt = ".seg"
	tmpExt     = ".tmp"
)

// segmentName returns the file name of the segment whose first record has
// position base: twenty decimal digits so names sort like positions.
func segmentName(base uint64) string { return fmt.Sprintf("%020d%s", base, segmentExt) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || base == 0 {
		return 0, false
	}
	return base, true
}

// listSegments returns the bases of dir's segments in order and removes
// leftovers of segment creations a crash interrupted (*.tmp).
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	var bases []uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, segmentExt+tmpExt) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("remove unfinished segment: %w", err)
			}
			continue
		}
		if base, ok := parseSegmentName(name); ok && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

func openSegment(dir string, base uint64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	return &segment{base: base, path: path, f: f}, nil
}

// createSegment creates, preallocates and durably names a new empty
// segment. The file is built under a temporary name and renamed, and the
// directory synced, so after a crash a segment either exists whole
// (zero-filled, size bytes) or not at all.
func createSegment(dir string, base uint64, size int64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base))
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	fail := func(err error) (*segment, error) {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("create segment %s: %w", filepath.Base(path), err)
	}
	if err := preallocate(f, size); err != nil {
		return fail(fmt.Errorf("preallocate %d bytes: %w", size, err))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("create segment %s: %w", filepath.Base(path), err)
	}
	return &segment{base: base, path: path, f: f}, nil
}

func (s *segment) size() (int64, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat segment: %w", err)
	}
	return fi.Size(), nil
}

func (s *segment) close() error { return s.f.Close() }

// syncDir makes dir's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// segmentFor returns the index in segs of the segment holding pos: the last
// one whose base is <= pos, or -1.
func segmentFor(segs []*segment, pos uint64) int {
	i, _ := slices.BinarySearchFunc(segs, pos, func(s *segment, p uint64) int {
		switch {
		case s.base < p:
			return -1
		case s.base > p:
			return 1
		}
		return 0
	})
	// i is the first segment with base >= pos.
	if i < len(segs) && segs[i].base == pos {
		return i
	}
	return i - 1
}
