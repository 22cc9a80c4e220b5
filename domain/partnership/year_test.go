package partnership

import "testing"

// TestParseAcademicYear: a label is four digits, a hyphen and the next
// year's last two digits; nothing else is a year.
func TestParseAcademicYear(t *testing.T) {
	for _, c := range []struct {
		label string
		start int
		ok    bool
	}{
		{"2025-26", 2025, true},
		{"1999-00", 1999, true},
		{"2099-00", 2099, true},
		{"0000-01", 0, true},
		{"2025-27", 0, false},
		{"2025-25", 0, false},
		{"2025/26", 0, false},
		{"2025-2", 0, false},
		{"25-26", 0, false},
		{" 2025-26", 0, false},
		{"2025-26 ", 0, false},
		{"2025-2a", 0, false},
		{"２０２５-26", 0, false},
		{"+025-26", 0, false},
		{"", 0, false},
	} {
		got, err := ParseAcademicYear(c.label)
		if (err == nil) != c.ok || got != c.start {
			t.Errorf("ParseAcademicYear(%q) = %d, %v; want %d, ok %v", c.label, got, err, c.start, c.ok)
		}
	}
}
