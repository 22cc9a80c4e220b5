package partnership_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// BenchmarkDecodeLoanRequested measures the codec's decoding of the
// commonest kind of loan event beside encoding/json's decoding of the
// same payload, in one run: the ratio is the figure (noise cancels).
func BenchmarkDecodeLoanRequested(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := partnership.LoanRequested{LoanKeys: partnership.LoanKeys{PartnershipID: uuid.New(), ResourceID: uuid.New(), LoanID: uuid.New(),
		OwnerSchoolID: uuid.New(), BorrowerSchoolID: uuid.New()}, Start: start, End: start.Add(6 * time.Hour), Purpose: "Year 9 field trip"}
	codec := &domain.Codec{}
	env, err := codec.Encode(e, uuid.New(), domain.Meta{ActorID: uuid.NewString(), ActorRole: "staff"})
	if err != nil {
		b.Fatal(err)
	}
	rec := domain.Recorded{Envelope: env, Stream: "resource-" + e.ResourceID.String(), Position: 1}
	b.Run("codec", func(b *testing.B) {
		for b.Loop() {
			if _, err := codec.Decode(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var got partnership.LoanRequested
			if err := json.Unmarshal(env.Data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
