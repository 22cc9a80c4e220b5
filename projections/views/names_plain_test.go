package views

import (
	"encoding/json"
	"testing"
)

// plainName gives back the name of any personal data the way the domain
// writes it (name first, email and phone optional), whatever characters
// the name holds, and of objects written in another order.
func TestPlainNameReadsWhatTheDomainWrites(t *testing.T) {
	type personal struct {
		Name  string `json:"name,omitempty"`
		Email string `json:"email,omitempty"`
		Phone string `json:"phone,omitempty"`
	}
	names := []string{"Ada Lovelace", "", `Jo "JJ" O'Neil`, `back\slash`, "Zoë Ångström", "<b>&amp;</b>", "tab\there", "line\nbreak", "\u2028", "日本語", "\xff invalid"}
	for _, name := range names {
		for _, p := range []personal{{Name: name}, {Name: name, Email: "a@b.org", Phone: "01234"}} {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var want personal
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got, ok := plainName(b); !ok || got != want.Name {
				t.Errorf("plainName(%s) = %q, %v; want %q", b, got, ok, want.Name)
			}
		}
	}
	if got, ok := plainName([]byte(`{"email":"a@b.org","name":"Sam"}`)); !ok || got != "Sam" {
		t.Errorf("name second: %q, %v", got, ok)
	}
	if _, ok := plainName([]byte(`{"name":`)); ok {
		t.Error("a cut object was read")
	}
}
